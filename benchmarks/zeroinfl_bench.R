# pscl::zeroinfl on the CSV written by zeroinfl_bench.py, default control; prints
# "RESULT <fastest elapsed seconds> <logLik>". Usage: Rscript zeroinfl_bench.R file.csv repeat
suppressMessages(library(pscl))
args <- commandArgs(TRUE)
d <- read.csv(args[1])
rep <- as.integer(args[2])
f <- y ~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 | x1 + x2 + x3 + x4
times <- sapply(seq_len(rep), function(i) system.time(fit <<- zeroinfl(f, data = d))[["elapsed"]])
cat("RESULT", min(times), format(as.numeric(logLik(fit)), digits = 16), "\n")
