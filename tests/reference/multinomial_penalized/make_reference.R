# Reference values for tests/test_multinomial_penalized.py: glmnet's penalized multinomial
# logit (family = "multinomial", type.multinomial = "ungrouped"; R 4.2, glmnet 4.1).
# Run from this folder:  Rscript make_reference.R
# Writes data.csv (y in {a, b, c, d}, weights, x1..x5; the lasso case uses the rows of a, b, c) and ref.json: for each case the
# elastic-net mixing (glmnet's alpha = glmkit's l1_ratio), the lambda sequence (glmkit's
# alpha; the case's target values are the last ones, reached by glmnet's warm starts) and
# the coefficients at each lambda, per class (K x (p + 1), intercept first).
suppressMessages(library(glmnet))
library(jsonlite)

set.seed(20261203)
n <- 500
p <- 5
x <- matrix(rnorm(n * p), n, p)
colnames(x) <- paste0("x", seq_len(p))
B <- cbind(c(0, 0, 0, 0, 0), c(1, -0.5, 0, 0, 0.3), c(-0.5, 1, 0.4, 0, 0),
           c(0.2, 0.2, -0.8, 0, 0))
a0 <- c(0, 0.3, -0.2, 0.1)
eta <- sweep(x %*% B, 2, a0, "+")
P <- exp(eta) / rowSums(exp(eta))
cls <- c("a", "b", "c", "d")
y <- cls[apply(P, 1, function(pr) sample(4, 1, prob = pr))]
wts <- sample(1:3, n, replace = TRUE)
write.csv(data.frame(y = y, weights = wts, x), "data.csv", row.names = FALSE)

run_case <- function(mix, lambda, use_weights, drop_d = FALSE) {
  # drop_d: the rows of classes a, b, c only (K = 3). With K even, a lasso (mix = 1) fit
  # is not unique: the objective is flat in the common shift of a column's coefficients
  # between the middle two of them, so the pure-lasso case has K = 3.
  keep <- if (drop_d) y != "d" else rep(TRUE, n)
  k_cls <- if (drop_d) cls[1:3] else cls
  w <- if (use_weights) wts[keep] else rep(1, sum(keep))
  fit <- glmnet(x[keep, ], y[keep], family = "multinomial", type.multinomial = "ungrouped",
                alpha = mix, lambda = lambda, weights = w, standardize = FALSE,
                thresh = 1e-16, maxit = 1e7)
  coefs <- lapply(seq_along(lambda), function(j) {
    t(sapply(k_cls, function(k) as.numeric(coef(fit)[[k]][, j])))
  })
  cat(sprintf("mix %.2f weights %d  npasses %d  jerr %d\n", mix, use_weights, fit$npasses,
              fit$jerr))
  list(l1_ratio = mix, lambda = lambda, weights = use_weights, classes = k_cls,
       coef = lapply(coefs, unname), dev_ratio = fit$dev.ratio, nulldev = fit$nulldev)
}

lam <- exp(seq(log(0.2), log(0.005), length.out = 12))
cases <- list(
  run_case(1.0, lam, FALSE, drop_d = TRUE),
  run_case(0.5, lam, FALSE),
  run_case(0.0, lam, FALSE),
  run_case(0.7, lam, TRUE)
)
out <- list(classes = cls, cases = cases, thresh = 1e-16,
            glmnet_version = as.character(packageVersion("glmnet")),
            r_version = R.version.string)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE), "ref.json")

# cv.glmnet on all four classes with the weights, a foldid drawn here and the lambdas
# above (glmkit's GLMClassifierCV with cv=PredefinedSplit(foldid - 1), alphas=lambda)
set.seed(7)
foldid <- sample(rep(1:5, length = n))
cvfit <- cv.glmnet(x, y, family = "multinomial", type.multinomial = "ungrouped",
                   alpha = 0.5, lambda = lam, weights = wts, foldid = foldid,
                   standardize = FALSE, thresh = 1e-16, maxit = 1e7,
                   type.measure = "deviance", grouped = TRUE)
cv_out <- list(l1_ratio = 0.5, lambda = cvfit$lambda, foldid = foldid, cvm = cvfit$cvm,
               cvsd = cvfit$cvsd, lambda_min = cvfit$lambda.min,
               lambda_1se = cvfit$lambda.1se, weights = TRUE)
writeLines(toJSON(cv_out, digits = NA, auto_unbox = TRUE, pretty = FALSE), "cv.json")
cat(sprintf("cv: lambda.min %.6g lambda.1se %.6g\n", cvfit$lambda.min, cvfit$lambda.1se))
