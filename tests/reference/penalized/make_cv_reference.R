# Reference values for tests/test_cv.py: cv.glmnet with a given foldid (R 4.2, glmnet 4.1).
# Run from this folder:  Rscript make_cv_reference.R
# Reads data_<case>.csv (written by make_reference.R) and writes cv_<case>.json: the foldid,
# lambda, and per lambda choice (default: cv.glmnet's own; given: the full fit's lambda
# passed in) and type.measure cvm, cvsd, cvup, cvlo, nzero, lambda.min, lambda.1se, name.
# Deterministic: each case draws its foldid after its own set.seed().
suppressMessages(library(glmnet))
library(jsonlite)

cv_case <- function(name, data, family, alpha, measures, nfolds = 10, seed = 1,
                    pf = NULL, lower = -Inf, upper = Inf, standardize = FALSE,
                    use_weights = FALSE, use_offset = FALSE, grouped = TRUE,
                    keys = c(FALSE, TRUE)) {
  d <- read.csv(sprintf("data_%s.csv", data))
  x <- as.matrix(d[, grep("^x[0-9]+$", names(d))])
  n <- nrow(x)
  set.seed(seed)
  foldid <- sample(rep(seq(nfolds), length = n))
  w <- if (use_weights) d$weights else rep(1, n)
  off <- if (use_offset) d$offset else NULL
  if (is.null(pf)) pf <- rep(1, ncol(x))
  out <- list(data = data, family = family, alpha = alpha, nfolds = nfolds,
              foldid = foldid, penalty_factor = pf, lower = rep_len(lower, ncol(x)),
              upper = rep_len(upper, ncol(x)), standardize = standardize,
              use_weights = use_weights, use_offset = use_offset, grouped = grouped,
              thresh = 1e-14, glmnet_version = as.character(packageVersion("glmnet")),
              r_version = R.version.string, default = list(), given = list())
  full <- glmnet(x, d$y, family = family, alpha = alpha, weights = w, offset = off,
                 penalty.factor = pf, lower.limits = lower, upper.limits = upper,
                 standardize = standardize, thresh = 1e-14, maxit = 1e7)
  out$lambda <- full$lambda
  for (given in keys) {
    # lambda = NULL (cv.glmnet's default): each fold fits its own lambda sequence and is
    # predicted at the full fit's lambda by linear interpolation (alignment = "lambda");
    # lambda given: every fold fits exactly those lambdas
    for (m in measures) {
      cvfit <- cv.glmnet(x, d$y, family = family, alpha = alpha, weights = w, offset = off,
                         penalty.factor = pf, lower.limits = lower, upper.limits = upper,
                         standardize = standardize, foldid = foldid, type.measure = m,
                         grouped = grouped, thresh = 1e-14, maxit = 1e7,
                         lambda = if (given) full$lambda else NULL)
      stopifnot(isTRUE(all.equal(cvfit$lambda, full$lambda, tolerance = 0)))
      key <- if (given) "given" else "default"
      out[[key]][[m]] <- list(cvm = cvfit$cvm, cvsd = cvfit$cvsd, cvup = cvfit$cvup,
                              cvlo = cvfit$cvlo, nzero = unname(cvfit$nzero),
                              lambda_min = cvfit$lambda.min,
                              lambda_1se = cvfit$lambda.1se, name = unname(cvfit$name))
      cat(sprintf("%-30s %-8s %-9s lambdas %3d  min %.6g  1se %.6g\n", name, key, m,
                  length(cvfit$lambda), cvfit$lambda.min, cvfit$lambda.1se))
    }
  }
  writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE),
             sprintf("cv_%s.json", name))
}

# the cases above fit every path in full: glmnet's early stop (fdev, devmax) is switched off so
# that each fold fits every lambda (otherwise a fold that stops early predicts with its last
# fit at the remaining lambdas, which an exact solver does not reproduce)
glmnet.control(fdev = 0, devmax = 1)

cv_case("binomial_lasso_pf", "binomial_lasso_pf", "binomial", 1,
        c("deviance", "class", "auc", "mse", "mae"), seed = 11,
        pf = c(1, 1, 0.5, 2, 1, 1, 0, 1), use_weights = TRUE)
cv_case("binomial_enet_bounds", "binomial_enet_bounds", "binomial", 0.5,
        c("deviance", "auc"), nfolds = 5, seed = 12,
        lower = c(-Inf, -0.3, -Inf, 0, -Inf, -Inf, -Inf, -Inf),
        upper = c(0.6, Inf, Inf, Inf, 0.1, Inf, Inf, Inf))
cv_case("poisson_offset", "poisson_offset", "poisson", 0.7, c("deviance", "mse", "mae"),
        seed = 13, pf = c(1, 2, 1, 0.5, 1, 1),
        lower = c(-Inf, -Inf, -0.2, -Inf, -Inf, -Inf), upper = c(Inf, Inf, Inf, 0.15, Inf, Inf),
        use_offset = TRUE)
cv_case("gaussian_lasso_pf", "gaussian_lasso_pf", "gaussian", 1, c("mse", "mae"), seed = 14,
        pf = c(1, 1, 1, 1, 0.5, 1, 1, 1, 3, 1))
cv_case("binomial_standardized_bounds", "binomial_standardized_bounds", "binomial", 0.6,
        c("deviance", "class"), seed = 15, standardize = TRUE,
        lower = c(-Inf, -Inf, -0.3, 0, -Inf), upper = c(0.2, Inf, Inf, Inf, Inf))
cv_case("binomial_ungrouped", "binomial_lasso_pf", "binomial", 1, c("deviance", "mse"),
        seed = 16, use_weights = TRUE, grouped = FALSE)

# glmnet's factory settings: its own sequences (the full fit's and each fold's) end early
# when the deviance ratio stalls; the folds' fits past their last lambda are their last
# fit (lambda.interp). Only cv.glmnet's default (no lambda given) is affected.
glmnet.control(factory = TRUE)
cv_case("binomial_lasso_pf_early", "binomial_lasso_pf", "binomial", 1,
        c("deviance", "auc"), seed = 21, pf = c(1, 1, 0.5, 2, 1, 1, 0, 1),
        use_weights = TRUE, keys = FALSE)
cv_case("poisson_offset_early", "poisson_offset", "poisson", 0.7, c("deviance", "mse"),
        seed = 22, use_offset = TRUE, keys = FALSE)
cv_case("gaussian_lasso_pf_early", "gaussian_lasso_pf", "gaussian", 1, c("mse", "mae"),
        seed = 23, pf = c(1, 1, 1, 1, 0.5, 1, 1, 1, 3, 1), keys = FALSE)
cv_case("binomial_standardized_early", "binomial_standardized", "binomial", 1,
        c("deviance", "class"), seed = 24, standardize = TRUE, keys = FALSE)
