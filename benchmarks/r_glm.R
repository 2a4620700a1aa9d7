# R's glm.fit on one benchmark problem; called by benchmarks/harness.py.
#
#   Rscript r_glm.R <prefix> <family> <n> <p> <has_offset 0|1> <levels 0|L> <repeats> <budget_s>
#
# Reads <prefix>.X.bin (n x p float64, column-major), <prefix>.y.bin, optionally
# <prefix>.offset.bin and <prefix>.codes.bin (int32), builds [1, X, one-hot(codes)[, -1]]
# before reporting "ready", then times glm.fit (the engine under glm(), default
# glm.control: epsilon = 1e-8, maxit = 25) `repeats` times or until `budget_s` seconds are
# spent. Fits shorter than 50 ms are timed in batches of 20 (proc.time has 1 ms resolution).
# Output: one "@@{json}" line per event, as the Python children do.
args <- commandArgs(trailingOnly = TRUE)
prefix <- args[1]; fam_name <- args[2]
n <- as.integer(args[3]); p <- as.integer(args[4])
has_offset <- args[5] == "1"; L <- as.integer(args[6])
repeats <- as.integer(args[7]); budget <- as.numeric(args[8])

emit <- function(...) {
  kv <- list(...)
  parts <- vapply(names(kv), function(k) {
    v <- kv[[k]]
    if (is.character(v)) sprintf('"%s": "%s"', k, v)
    else if (is.logical(v)) sprintf('"%s": %s', k, if (v) "true" else "false")
    else if (length(v) > 1) sprintf('"%s": [%s]', k, paste(sprintf("%.17g", v), collapse = ", "))
    else sprintf('"%s": %.17g', k, v)
  }, "")
  cat("@@{", paste(parts, collapse = ", "), "}\n", sep = "")
  flush(stdout())
}

tryCatch({
  X <- matrix(readBin(paste0(prefix, ".X.bin"), "double", n * p), nrow = n)
  y <- readBin(paste0(prefix, ".y.bin"), "double", n)
  off <- if (has_offset) readBin(paste0(prefix, ".offset.bin"), "double", n) else rep(0, n)
  Xc <- cbind(1, X)
  rm(X)
  if (L > 0) {
    codes <- readBin(paste0(prefix, ".codes.bin"), "integer", n, size = 4)
    D <- matrix(0, n, L - 1)
    pos <- which(codes > 0)
    D[cbind(pos, codes[pos])] <- 1
    Xc <- cbind(Xc, D)
    rm(D, codes, pos)
  }
  fam <- switch(fam_name,
    poisson = poisson(),
    binomial = binomial(),
    gamma = Gamma(link = "log"),
    tweedie = statmod::tweedie(var.power = 1.5, link.power = 0))
  fit1 <- function() glm.fit(Xc, y, family = fam, offset = off)
  invisible(gc())
  emit(event = "ready")
  spent <- 0
  for (i in seq_len(repeats)) {
    t0 <- proc.time()[["elapsed"]]
    fit <- fit1()
    dt <- proc.time()[["elapsed"]] - t0
    if (i == 1) {
      emit(event = "fit", i = 0, seconds = dt, n_iter = fit$iter, converged = fit$converged,
           params = unname(fit$coefficients))
      if (dt < 0.05 && repeats > 1) break
    } else {
      emit(event = "fit", i = i - 1, seconds = dt)
    }
    spent <- spent + dt
    if (spent > budget) break
  }
  if (dt < 0.05 && repeats > 1) {  # short fits: time batches of 20
    nb <- max(1, repeats %/% 20)
    for (b in seq_len(nb)) {
      t0 <- proc.time()[["elapsed"]]
      for (k in 1:20) fit <- fit1()
      emit(event = "fit", i = b, seconds = (proc.time()[["elapsed"]] - t0) / 20, batch = 20)
    }
  }
  emit(event = "done")
}, error = function(e) {
  emit(event = "error", error = gsub('"', "'", conditionMessage(e)))
  quit(status = 1)
})
