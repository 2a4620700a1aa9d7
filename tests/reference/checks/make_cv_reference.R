# Reference values for glmkit.cross_validate (tests/test_checks.py): a by-hand K-fold loop
# with glm() (out-of-fold deviance, null model = intercept + offset) and cv.glmnet's
# deviance curve (cvm, cvsd, lambda.min, lambda.1se) at given lambdas and foldid.
# R 4.2, glmnet, jsonlite. Run from this folder: Rscript make_cv_reference.R
suppressMessages({library(glmnet); library(jsonlite)})
set.seed(13)
n <- 240
x <- matrix(rnorm(n * 4), n, 4, dimnames = list(NULL, paste0("x", 1:4)))
expo <- runif(n, 0.5, 2)
w <- sample(1:3, n, replace = TRUE)
y <- rpois(n, expo * exp(0.3 + 0.5 * x[, 1] - 0.4 * x[, 2]))
yb <- rbinom(n, 1, plogis(-0.2 + 0.8 * x[, 1] + 0.3 * x[, 3]))
foldid <- sample(rep(1:5, length.out = n))
write.csv(data.frame(y, yb, x, expo, w, foldid), "cv_data.csv", row.names = FALSE)

byhand <- function(fam, resp, off, wts) {
  dev <- null <- numeric(5)
  d <- data.frame(resp = resp, x, off = off, wts = wts)
  for (k in 1:5) {
    tr <- foldid != k; te <- foldid == k
    f <- glm(resp ~ x1 + x2 + x3 + x4 + offset(off), family = fam, data = d[tr, ],
             weights = wts, control = glm.control(epsilon = 1e-14, maxit = 100))
    f0 <- glm(resp ~ 1 + offset(off), family = fam, data = d[tr, ], weights = wts,
              control = glm.control(epsilon = 1e-14, maxit = 100))
    mu <- predict(f, d[te, ], type = "response")
    mu0 <- predict(f0, d[te, ], type = "response")
    dev[k] <- sum(fam$dev.resids(resp[te], mu, wts[te]))
    null[k] <- sum(fam$dev.resids(resp[te], mu0, wts[te]))
  }
  list(fold_deviance = dev, fold_null = null)
}
pois <- byhand(poisson(), y, log(expo), w)
bin <- byhand(binomial(), yb, rep(0, n), rep(1, n))

lam <- exp(seq(log(0.3), log(0.002), length.out = 15))
cvg <- function(fit) list(lambda = fit$lambda, cvm = fit$cvm, cvsd = fit$cvsd,
                          lambda_min = fit$lambda.min, lambda_1se = fit$lambda.1se)
cvp <- cv.glmnet(x, y, family = "poisson", offset = log(expo), weights = w, lambda = lam,
                 foldid = foldid, alpha = 0.5, standardize = FALSE, thresh = 1e-16,
                 maxit = 1e6, type.measure = "deviance")
cvb <- cv.glmnet(x, yb, family = "binomial", lambda = lam, foldid = foldid, alpha = 1,
                 standardize = FALSE, thresh = 1e-16, maxit = 1e6, type.measure = "deviance")
writeLines(toJSON(list(poisson = pois, binomial = bin, glmnet_poisson = cvg(cvp),
                       glmnet_binomial = cvg(cvb)), digits = NA, auto_unbox = TRUE),
           "cv.json")
