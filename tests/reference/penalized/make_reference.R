# Reference values for tests/test_penalized.py: glmnet paths (R 4.2, glmnet 4.1).
# Run from this folder:  Rscript make_reference.R
# Writes data_<case>.csv (y, weights, offset, x1..xp) and ref_<case>.json (lambda,
# coefficients with the intercept first, deviance, df, call arguments).
suppressMessages(library(glmnet))
library(jsonlite)

write_case <- function(name, x, y, family, alpha, w = NULL, offset = NULL,
                       pf = rep(1, ncol(x)), lower = -Inf, upper = Inf,
                       standardize = FALSE, nlambda = 100) {
  n <- nrow(x)
  wts <- if (is.null(w)) rep(1, n) else w
  fit <- glmnet(x, y, family = family, alpha = alpha, weights = wts, offset = offset,
                penalty.factor = pf, lower.limits = lower, upper.limits = upper,
                standardize = standardize, thresh = 1e-14, maxit = 1e7, nlambda = nlambda)
  B <- as.matrix(coef(fit))            # (p + 1) x nlambda, intercept first
  df <- data.frame(y = y, weights = wts, offset = if (is.null(offset)) 0 else offset, x)
  write.csv(df, sprintf("data_%s.csv", name), row.names = FALSE)
  out <- list(family = family, alpha = alpha, penalty_factor = pf,
              lower = rep_len(lower, ncol(x)), upper = rep_len(upper, ncol(x)),
              standardize = standardize, thresh = 1e-14, nlambda = nlambda,
              lambda = fit$lambda, coef = unname(t(B)),
              deviance = deviance(fit), nulldev = fit$nulldev, df = fit$df,
              glmnet_version = as.character(packageVersion("glmnet")),
              r_version = R.version.string)
  writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE),
             sprintf("ref_%s.json", name))
  cat(sprintf("%-28s lambdas %3d  npasses %d  jerr %d\n", name, length(fit$lambda),
              fit$npasses, fit$jerr))
}

make_x <- function(n, p, seed) {
  set.seed(seed)
  S <- 0.4 ^ abs(outer(1:p, 1:p, "-"))          # AR(1) correlated columns
  x <- matrix(rnorm(n * p), n, p) %*% chol(S)
  colnames(x) <- paste0("x", 1:p)
  x
}

# 1. Binomial lasso with frequency weights and penalty factors (one column unpenalized)
x <- make_x(500, 8, 101)
eta <- -0.3 + x %*% c(1, -0.8, 0.5, 0, 0, 0.3, 0, -0.2)
y <- rbinom(500, 1, plogis(eta))
w <- sample(1:3, 500, replace = TRUE)
write_case("binomial_lasso_pf", x, y, "binomial", 1, w = w,
           pf = c(1, 1, 0.5, 2, 1, 1, 0, 1))

# 2. Binomial elastic net with bounds
write_case("binomial_enet_bounds", x, y, "binomial", 0.5,
           lower = c(-Inf, -0.3, -Inf, 0, -Inf, -Inf, -Inf, -Inf),
           upper = c(0.6, Inf, Inf, Inf, 0.1, Inf, Inf, Inf))

# 3. Poisson with an offset, elastic net, penalty factors and bounds
x <- make_x(400, 6, 202)
off <- log(runif(400, 0.5, 2))
mu <- exp(0.2 + off + x %*% c(0.4, 0, -0.3, 0.2, 0, 0.1))
y <- rpois(400, mu)
write_case("poisson_offset", x, y, "poisson", 0.7, offset = off,
           pf = c(1, 2, 1, 0.5, 1, 1),
           lower = c(-Inf, -Inf, -0.2, -Inf, -Inf, -Inf), upper = c(Inf, Inf, Inf, 0.15, Inf, Inf))

# 4. Gaussian lasso (y scaled to unit variance with 1/n, as glmnet's own scaling assumes
#    for alpha < 1; for the lasso it changes nothing) with penalty factors
x <- make_x(300, 10, 303)
y <- 1 + x %*% c(0.5, 0, 0, -0.4, 0.3, 0, 0, 0, 0.2, 0) + rnorm(300)
y <- as.numeric(y / sqrt(mean((y - mean(y))^2)))
write_case("gaussian_lasso_pf", x, y, "gaussian", 1, pf = c(1, 1, 1, 1, 0.5, 1, 1, 1, 3, 1))

# 5. Gaussian elastic net with bounds
write_case("gaussian_enet_bounds", x, y, "gaussian", 0.3,
           lower = c(0, -Inf, -Inf, -0.2, -Inf, -Inf, -Inf, -Inf, -Inf, -Inf),
           upper = c(Inf, Inf, Inf, Inf, 0.2, Inf, Inf, Inf, Inf, Inf))

# 6. Binomial lasso on standardized columns (glmnet's default standardize = TRUE)
x <- make_x(300, 5, 404)
x <- sweep(x, 2, c(1, 3, 0.5, 10, 2), "*")
y <- rbinom(300, 1, plogis(0.5 + x %*% c(0.5, 0.1, -1, 0.02, 0)))
write_case("binomial_standardized", x, y, "binomial", 1, standardize = TRUE)

# 7. Binomial elastic net on standardized columns with bounds (glmnet applies the limits
#    to the coefficients on the original scale)
write_case("binomial_standardized_bounds", x, y, "binomial", 0.6, standardize = TRUE,
           lower = c(-Inf, -Inf, -0.3, 0, -Inf), upper = c(0.2, Inf, Inf, Inf, Inf))

# 8. Wide binomial lasso (p > n: glmnet's default lambda.min.ratio is 0.01)
x <- make_x(50, 80, 505)
y <- rbinom(50, 1, plogis(x[, 1] - x[, 2] + 0.5 * x[, 3]))
write_case("binomial_wide", x, y, "binomial", 1)
