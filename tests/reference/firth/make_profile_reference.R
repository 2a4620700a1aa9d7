# Reference values for glmkit's conf_int(method='profile') on method='firth' fits: profile
# penalized-likelihood intervals (Heinze and Schemper 2002; logistf's default), computed here
# from the formula in base R 4.2 with an independent optimizer (logistf is not packaged for
# Debian): l*(b) = loglik(b) + log det(X'WX) / 2, maximized over the other coefficients by
# optim(BFGS) with the analytic gradient from
# the estimates and 30 random starts (the highest maximum); the ends by uniroot at chi2_0.95(1).
# The estimates themselves are brglm2's (make_reference.R). Run: Rscript make_profile_reference.R
library(brglm2)
library(jsonlite)
pl <- function(X, y, wt, off, family) {
  inv <- family$linkinv
  function(b) {
    eta <- drop(X %*% b) + off
    mu <- inv(eta)
    v <- family$variance(mu)
    W <- wt * v
    ll <- if (family$family == "binomial") sum(wt * (y * log(mu) + (1 - y) * log(1 - mu)))
          else sum(wt * (y * log(mu) - mu))
    ll + 0.5 * determinant(crossprod(X, X * W), logarithm = TRUE)$modulus[1]
  }
}
pl_grad <- function(X, y, wt, off, family) {
  inv <- family$linkinv
  function(b) {
    eta <- drop(X %*% b) + off
    mu <- inv(eta)
    W <- wt * family$variance(mu)
    XW <- X * sqrt(W)
    h <- rowSums((XW %*% solve(crossprod(XW))) * XW)
    ratio <- if (family$family == "binomial") 1 - 2 * mu else rep(1, length(mu))
    drop(crossprod(X, wt * (y - mu) + 0.5 * h * ratio))
  }
}
profile_ci <- function(fit, X, y, wt, off, family) {
  f <- pl(X, y, wt, off, family); g <- pl_grad(X, y, wt, off, family)
  b <- coef(fit); top <- f(b); se <- sqrt(diag(vcov(fit)))
  crit <- qchisq(0.95, 1)
  t(sapply(seq_along(b), function(j) {
    # the restricted l* can have several local maxima (under separation): BFGS from the
    # estimates and from 30 random starts, keeping the highest
    set.seed(j)
    starts <- c(list(b[-j]), lapply(1:30, function(i) b[-j] + rnorm(length(b) - 1, 0, 4 * se[-j])))
    restricted <- function(c) {
      fr <- function(a) { bb <- b; bb[j] <- c; bb[-j] <- a; -f(bb) }
      gr <- function(a) { bb <- b; bb[j] <- c; bb[-j] <- a; -g(bb)[-j] }
      best <- -Inf
      for (s in starts) {
        o <- tryCatch(optim(s, fr, gr, method = "BFGS", control = list(reltol = 1e-16, maxit = 10000)), error = function(e) NULL)
        if (is.null(o)) next
        o <- optim(o$par, fr, gr, method = "BFGS", control = list(reltol = 1e-16, maxit = 10000))
        if (is.finite(o$value)) best <- max(best, -o$value)
      }
      best
    }
    stat <- function(c) 2 * (top - restricted(c)) - crit
    ends <- sapply(c(-1, 1), function(s) {
      k <- 1; while (stat(b[j] + s * k * se[j]) < 0) k <- 2 * k
      r <- sort(c(b[j] + s * (k / 2) * se[j] * (k > 1), b[j] + s * k * se[j]))
      if (k == 1) r <- sort(c(b[j], b[j] + s * se[j]))
      uniroot(stat, r, tol = 1e-12)$root
    })
    ends
  }))
}
ctl <- brglmControl(type = "AS_mean", epsilon = 1e-14, maxit = 500)
sep <- read.csv("data_separated.csv")
bw <- read.csv("data_birthwt.csv")
cnt <- read.csv("data_counts.csv")
case <- function(formula, data, family, offset = NULL) {
  fit <- glm(formula, family, data = data, method = "brglmFit", control = ctl)
  X <- model.matrix(fit); y <- fit$y; wt <- fit$prior.weights
  off <- if (is.null(fit$offset)) rep(0, nrow(X)) else fit$offset
  list(coefficients = unname(coef(fit)), profile = unname(profile_ci(fit, X, y, wt, off, family)))
}
out <- list(
  logit_separated = case(y ~ x + z, sep, binomial()),
  logit_birthwt = case(low ~ age + lwt + smoke + ht, bw, binomial()),
  poisson_offset = case(y ~ x + offset(log(t)), cnt, poisson())
)
write_json(out, "ref_firth_profile.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
