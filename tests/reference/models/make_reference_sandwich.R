# Reference values for the sandwich (HC0) covariances of glmkit.polr, glmkit.zeroinfl and
# glmkit.hurdle: R's sandwich::sandwich(fit) (sandwich 3.x, MASS, pscl from Debian's
# packages), at fits polished as in make_reference.R / make_reference_counts.R.
# Run from this folder: Rscript make_reference_sandwich.R
library(MASS)
library(pscl)
library(sandwich)
library(jsonlite)

d <- read.csv("data_sim.csv")
d$o <- factor(d$o, levels = c("none", "low", "some", "many"), ordered = TRUE)
d$g <- factor(d$g)
pl <- function(method) {
  ctl <- list(reltol = 1e-15, maxit = 10000)
  f0 <- polr(o ~ x1 + x2 + g, data = d)
  f <- polr(o ~ x1 + x2 + g, data = d, method = method, Hess = TRUE, control = ctl,
            start = c(coef(f0), f0$zeta))
  for (i in 1:5) f <- polr(o ~ x1 + x2 + g, data = d, method = method, Hess = TRUE,
                           control = ctl, start = c(coef(f), f$zeta))
  unname(sandwich(f))
}
data("bioChemists", package = "pscl")
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
# the bread is pscl's vcov: optim's finite-difference Hessian, with the step 1e-5 (not 1e-3)
zi <- function(f, ...) polish(zeroinfl(f, bioChemists, ...), function(st)
  zeroinfl(f, bioChemists, ..., control = zeroinfl.control(reltol = 1e-15, maxit = 1e4,
           start = st, ndeps = rep(1e-5, length(unlist(st))))))
hu <- function(f, ...) polish(hurdle(f, bioChemists, ...), function(st)
  hurdle(f, bioChemists, ..., control = hurdle.control(reltol = 1e-15, maxit = 1e4,
         start = st, separate = FALSE, ndeps = rep(1e-5, length(unlist(st))))))
out <- list(polr_logistic = pl("logistic"), polr_probit = pl("probit"),
            zip = unname(sandwich(zi(fb))),
            zinb = unname(sandwich(zi(art ~ fem + mar + kid5 + phd + ment | ment + fem,
                                      dist = "negbin"))),
            hunb = unname(sandwich(hu(art ~ fem + mar + kid5 + phd + ment | ment + fem,
                                      dist = "negbin"))))
write_json(out, "ref_sandwich.json", digits = NA, auto_unbox = TRUE, pretty = TRUE,
           matrix = "rowmajor")
