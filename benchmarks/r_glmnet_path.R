# glmnet's lasso path and cv.glmnet on one problem, timed inside R; called by
# benchmarks/path_compare.py.
#
#   Rscript r_glmnet_path.R <prefix> <family> <n> <p> <thresh> <do_cv 0|1>
#
# Reads <prefix>.X.bin (n x p float64, column-major; or a sparse design as 1-based int32
# <prefix>.i.bin, <prefix>.j.bin and float64 <prefix>.v.bin), <prefix>.y.bin, <prefix>.lambda.bin
# (the lambda sequence, glmkit's alphas) and <prefix>.foldid.bin (int32, 1..K). Times
# glmnet(x, y, family, lambda, standardize = FALSE, thresh) and, with do_cv, cv.glmnet with
# the same lambda and foldid (type.measure = "deviance"). Only the fits are timed (the data
# is read first). Output: one "@@{json}" line with the seconds, glmnet's coefficients at
# every 10th lambda (intercept first) and cv.glmnet's cvm.
suppressMessages(library(glmnet))
args <- commandArgs(trailingOnly = TRUE)
prefix <- args[1]; fam <- args[2]
n <- as.integer(args[3]); p <- as.integer(args[4])
thresh <- as.numeric(args[5]); do_cv <- args[6] == "1"
if (file.exists(paste0(prefix, ".i.bin"))) {   # a sparse design: (row, column, value)
  nnz <- file.size(paste0(prefix, ".v.bin")) / 8
  x <- Matrix::sparseMatrix(i = readBin(paste0(prefix, ".i.bin"), "integer", nnz, size = 4),
                            j = readBin(paste0(prefix, ".j.bin"), "integer", nnz, size = 4),
                            x = readBin(paste0(prefix, ".v.bin"), "double", nnz),
                            dims = c(n, p))
} else {
  x <- matrix(readBin(paste0(prefix, ".X.bin"), "double", n * p), nrow = n)
}
y <- readBin(paste0(prefix, ".y.bin"), "double", n)
con <- file(paste0(prefix, ".lambda.bin"), "rb")
lam <- readBin(con, "double", 10000); close(con)
foldid <- readBin(paste0(prefix, ".foldid.bin"), "integer", n, size = 4)
invisible(gc())
t0 <- proc.time()[["elapsed"]]
fit <- glmnet(x, y, family = fam, lambda = lam, standardize = FALSE, thresh = thresh)
t_path <- proc.time()[["elapsed"]] - t0
idx <- seq(1, length(lam), by = 10)
B <- as.matrix(coef(fit))[, idx, drop = FALSE]
t_cv <- -1; cvm <- numeric(0)
if (do_cv) {
  t0 <- proc.time()[["elapsed"]]
  cvfit <- cv.glmnet(x, y, family = fam, lambda = lam, standardize = FALSE, thresh = thresh,
                     foldid = foldid, type.measure = "deviance")
  t_cv <- proc.time()[["elapsed"]] - t0
  cvm <- cvfit$cvm
}
fmt <- function(v) paste(sprintf("%.17g", v), collapse = ", ")
cat(sprintf('@@{"path_seconds": %.6f, "cv_seconds": %.6f, "idx": [%s], "coef": [%s], "cvm": [%s], "glmnet": "%s"}\n',
            t_path, t_cv, paste(idx - 1, collapse = ", "), fmt(as.vector(B)), fmt(cvm),
            as.character(packageVersion("glmnet"))))
