# Reference values for tests/test_relax.py: glmnet's relaxed fits (relax = TRUE) on a path
# and in cv.glmnet with a given foldid (R 4.2, glmnet 4.1).
# Run from this folder:  Rscript make_relax_reference.R
# Reads data_<case>.csv (written by make_reference.R) and writes relax_<case>.json:
#   lambda; beta, a0 (the penalized path); relaxed_beta, relaxed_a0 (fit$relaxed: the
#   unpenalized refits on each lambda's active set, lambda = 0 within the bounds);
#   blend_beta, blend_a0 at gamma = 0.5 (coef(fit, gamma = 0.5): gamma * penalized +
#   (1 - gamma) * relaxed); and cv.glmnet(relax = TRUE, gamma = c(0, .25, .5, .75, 1)) with
#   the foldid: per gamma cvm, cvsd, and lambda.min, gamma.min, lambda.1se, gamma.1se.
# Every sequence is fitted in full (glmnet.control(fdev = 0, devmax = 1)), as in
# make_cv_reference.R.
suppressMessages(library(glmnet))
library(jsonlite)
glmnet.control(fdev = 0, devmax = 1)

relax_case <- function(name, data, family, alpha, measure, nfolds = 10, seed = 1,
                       pf = NULL, lower = -Inf, upper = Inf, standardize = FALSE,
                       use_weights = FALSE, use_offset = FALSE, nlambda = 30) {
  d <- read.csv(sprintf("data_%s.csv", data))
  x <- as.matrix(d[, grep("^x[0-9]+$", names(d))])
  n <- nrow(x)
  set.seed(seed)
  foldid <- sample(rep(seq(nfolds), length = n))
  w <- if (use_weights) d$weights else rep(1, n)
  off <- if (use_offset) d$offset else NULL
  if (is.null(pf)) pf <- rep(1, ncol(x))
  lower <- rep_len(lower, ncol(x)); upper <- rep_len(upper, ncol(x))
  # do.call puts the values (not this function's variable names) into the call that
  # relax.glmnet re-evaluates with update()
  args <- list(x = x, y = d$y, family = family, alpha = alpha, weights = w, offset = off,
               penalty.factor = pf, lower.limits = lower, upper.limits = upper,
               standardize = standardize, thresh = 1e-14, maxit = 1e7, nlambda = nlambda,
               relax = TRUE)
  fit <- do.call(glmnet, args)
  stopifnot(isTRUE(all.equal(fit$lambda, fit$relaxed$lambda)))   # no active set > n - 3
  blend <- coef(fit, s = fit$lambda, gamma = 0.5)
  cvfit <- do.call(cv.glmnet, c(args, list(foldid = foldid, type.measure = measure,
                                            gamma = c(0, 0.25, 0.5, 0.75, 1))))
  rel <- cvfit$relaxed
  out <- list(data = data, family = family, alpha = alpha, nfolds = nfolds, foldid = foldid,
              penalty_factor = pf, lower = lower, upper = upper, standardize = standardize,
              use_weights = use_weights, use_offset = use_offset, measure = measure,
              nlambda = nlambda, thresh = 1e-14,
              glmnet_version = as.character(packageVersion("glmnet")),
              r_version = R.version.string,
              lambda = fit$lambda, a0 = unname(fit$a0), beta = unname(as.matrix(fit$beta)),
              relaxed_a0 = unname(fit$relaxed$a0),
              relaxed_beta = unname(as.matrix(fit$relaxed$beta)),
              blend_a0 = unname(blend[1, ]), blend_beta = unname(as.matrix(blend[-1, ])),
              cv_lambda = cvfit$lambda, cvm = cvfit$cvm, cvsd = cvfit$cvsd,
              gamma = rel$gamma,
              relaxed_cvm = lapply(rel$statlist, function(s) s$cvm),
              relaxed_cvsd = lapply(rel$statlist, function(s) s$cvsd),
              lambda_min = rel$lambda.min, gamma_min = rel$gamma.min,
              lambda_1se = rel$lambda.1se, gamma_1se = rel$gamma.1se,
              plain_lambda_min = cvfit$lambda.min, plain_lambda_1se = cvfit$lambda.1se)
  names(out$relaxed_cvm) <- NULL; names(out$relaxed_cvsd) <- NULL
  cat(sprintf("%-22s lambdas %3d  relaxed min (%.5g, gamma %.2f)  1se (%.5g, gamma %.2f)\n",
              name, length(fit$lambda), rel$lambda.min, rel$gamma.min, rel$lambda.1se,
              rel$gamma.1se))
  writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE, matrix = "rowmajor"),
             sprintf("relax_%s.json", name))
}

relax_case("binomial_lasso_pf", "binomial_lasso_pf", "binomial", 1, "deviance", seed = 31,
           pf = c(1, 1, 0.5, 2, 1, 1, 0, 1), use_weights = TRUE)
relax_case("poisson_offset_bounds", "poisson_offset", "poisson", 0.7, "deviance", seed = 32,
           pf = c(1, 2, 1, 0.5, 1, 1), lower = c(-Inf, -Inf, -0.2, -Inf, -Inf, -Inf),
           upper = c(Inf, Inf, Inf, 0.15, Inf, Inf), use_offset = TRUE)
relax_case("gaussian_lasso_pf", "gaussian_lasso_pf", "gaussian", 1, "mse", seed = 33,
           pf = c(1, 1, 1, 1, 0.5, 1, 1, 1, 3, 1))
relax_case("binomial_standardized", "binomial_standardized", "binomial", 1, "deviance",
           seed = 34, standardize = TRUE)
