# Reference values for the HC1 and cluster sandwich covariances of glmkit.multinom / MNLogit,
# glmkit.polr / OrderedModel, glmkit.zeroinfl and glmkit.hurdle: R's
# sandwich::sandwich(fit, adjust = TRUE) and sandwich::vcovCL(fit, cluster = cl) (type HC0,
# cadjust TRUE: the default for these models), vcovCL(type = "HC1") and
# vcovCL(cadjust = FALSE). Fits polished as in make_reference_sandwich.R.
# sandwich has no methods for nnet::multinom: estfun.multinom (x_i (1{y_i = j} - p_ij),
# category-major as vcov) and bread.multinom (vcov * n) are defined here.
# Clusters: (row - 1) %% 23 on data_sim.csv, (row - 1) %% 37 on bioChemists.
# Run from this folder: Rscript make_reference_robust.R
library(MASS)
library(nnet)
library(pscl)
library(sandwich)
library(jsonlite)

d <- read.csv("data_sim.csv")
d$o <- factor(d$o, levels = c("none", "low", "some", "many"), ordered = TRUE)
d$g <- factor(d$g)
d$y <- factor(d$y)
cl_sim <- (seq_len(nrow(d)) - 1) %% 23

estfun.multinom <- function(x, ...) {
  X <- model.matrix(x)
  P <- fitted(x)
  Y <- model.matrix(~ 0 + y, data = data.frame(y = factor(x$y, levels = x$lev)))
  R <- (Y - P)[, -1, drop = FALSE]
  do.call(cbind, lapply(seq_len(ncol(R)), function(j) X * R[, j]))
}
bread.multinom <- function(x, ...) vcov(x) * nrow(model.matrix(x))

mn <- multinom(y ~ x1 + x2 + g, data = d, maxit = 10000, abstol = 1e-14, reltol = 1e-14,
               trace = FALSE, Hess = TRUE, model = TRUE)
mn$y <- d$y
mn$lev <- levels(d$y)

pl <- function(method) {
  ctl <- list(reltol = 1e-15, maxit = 10000)
  f0 <- polr(o ~ x1 + x2 + g, data = d)
  f <- polr(o ~ x1 + x2 + g, data = d, method = method, Hess = TRUE, control = ctl,
            start = c(coef(f0), f0$zeta))
  for (i in 1:5) f <- polr(o ~ x1 + x2 + g, data = d, method = method, Hess = TRUE,
                           control = ctl, start = c(coef(f), f$zeta))
  f
}
data("bioChemists", package = "pscl")
cl_bio <- (seq_len(nrow(bioChemists)) - 1) %% 37
fb <- art ~ fem + mar + kid5 + phd + ment
polish <- function(fit, refit) {
  for (i in 1:20) {
    st <- list(count = fit$coefficients$count, zero = fit$coefficients$zero)
    if (!is.null(fit$theta)) st$theta <- fit$theta
    new <- refit(st)
    done <- abs(new$loglik - fit$loglik) < 1e-13 * abs(fit$loglik)
    fit <- new
    if (done) break
  }
  fit
}
zi <- function(f, ...) polish(zeroinfl(f, bioChemists, ...), function(st)
  zeroinfl(f, bioChemists, ..., control = zeroinfl.control(reltol = 1e-15, maxit = 1e4,
           start = st, ndeps = rep(1e-5, length(unlist(st))))))
hu <- function(f, ...) polish(hurdle(f, bioChemists, ...), function(st)
  hurdle(f, bioChemists, ..., control = hurdle.control(reltol = 1e-15, maxit = 1e4,
         start = st, separate = FALSE, ndeps = rep(1e-5, length(unlist(st))))))

four <- function(fit, cl) list(
  HC1 = unname(sandwich(fit, adjust = TRUE)),
  cluster = unname(vcovCL(fit, cluster = cl)),
  cluster_hc1 = unname(vcovCL(fit, cluster = cl, type = "HC1")),
  cluster_noadj = unname(vcovCL(fit, cluster = cl, cadjust = FALSE)))

out <- list(
  multinom = four(mn, cl_sim),
  polr_logistic = four(pl("logistic"), cl_sim),
  polr_probit = four(pl("probit"), cl_sim),
  zip = four(zi(fb), cl_bio),
  zinb = four(zi(art ~ fem + mar + kid5 + phd + ment | ment + fem, dist = "negbin"), cl_bio),
  hunb = four(hu(art ~ fem + mar + kid5 + phd + ment | ment + fem, dist = "negbin"), cl_bio),
  hup = four(hu(fb), cl_bio))
write_json(out, "ref_robust.json", digits = NA, auto_unbox = TRUE, pretty = TRUE,
           matrix = "rowmajor")
