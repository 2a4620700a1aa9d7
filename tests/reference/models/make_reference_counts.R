# Reference values for glmkit.zeroinfl, glmkit.hurdle and glmkit.vuong: pscl 1.5.5 (R 4.2,
# from Debian's packages). Run from this folder: Rscript make_reference_counts.R
# optim (BFGS) is run with reltol 1e-15 and restarted from its own answer until the
# log-likelihood stops moving, so the references sit at the maximum (pscl's defaults stop
# ~1e-6 relative from it). vcov / SE.logtheta are pscl's: optim's finite-difference Hessian
# of pscl's analytic gradient, with the step ndeps = 1e-5 instead of optim's 1e-3 (whose
# error is ~1e-4 relative); hurdles are fitted jointly (separate = FALSE; the same maximum
# and block-diagonal Hessian) so that one ndeps covers all parameters.
library(pscl)
library(MASS)
library(jsonlite)

data("bioChemists", package = "pscl")
write.csv(bioChemists, "data_biochemists.csv", row.names = FALSE)

# a second data set: exposure (offset), a three-level factor, frequency weights
set.seed(151)
n <- 600
s <- data.frame(x = rnorm(n), z = runif(n), g = factor(sample(c("a", "b", "c"), n, TRUE)),
                expo = runif(n, 0.5, 3), w = sample(1:3, n, TRUE))
mu <- s$expo * exp(0.3 + 0.5 * s$x - 0.4 * (s$g == "b") + 0.3 * (s$g == "c"))
pz <- plogis(-0.7 + 1.2 * s$z)
s$y <- ifelse(runif(n) < pz, 0, rnbinom(n, size = 2, mu = mu))
write.csv(s, "data_counts_sim.csv", row.names = FALSE)

ctl_zi <- function(start = NULL, k = NULL) {
  if (is.null(k)) zeroinfl.control(reltol = 1e-15, maxit = 10000, start = start)
  else zeroinfl.control(reltol = 1e-15, maxit = 10000, start = start, ndeps = rep(1e-5, k))
}
ctl_hu <- function(start = NULL, k = NULL) {
  if (is.null(k)) hurdle.control(reltol = 1e-15, maxit = 10000, start = start, separate = FALSE)
  else hurdle.control(reltol = 1e-15, maxit = 10000, start = start, separate = FALSE,
                      ndeps = rep(1e-5, k))
}

polish <- function(fit, refit, ctl) {
  for (i in 1:20) {
    st <- list(count = fit$coefficients$count, zero = fit$coefficients$zero)
    if (!is.null(fit$theta)) st$theta <- fit$theta
    new <- refit(ctl(st, length(unlist(st))))
    done <- abs(new$loglik - fit$loglik) < 1e-13 * abs(fit$loglik)
    fit <- new
    if (done) break
  }
  fit
}

out_fit <- function(f, newdata, at = 0:8) {
  list(coefficients = unname(coef(f)), names = names(coef(f)),
       count = unname(f$coefficients$count), zero = unname(f$coefficients$zero),
       vcov = unname(vcov(f)), se = unname(sqrt(diag(vcov(f)))),
       theta = if (is.null(f$theta)) NULL else unname(f$theta),
       SE_logtheta = if (is.null(f$SE.logtheta)) NULL else unname(f$SE.logtheta),
       logLik = as.numeric(logLik(f)), df = attr(logLik(f), "df"), AIC = AIC(f),
       BIC = BIC(f), nobs = f$n, fitted = unname(fitted(f)),
       pred_response = unname(predict(f, newdata = newdata, type = "response")),
       pred_count = unname(predict(f, newdata = newdata, type = "count")),
       pred_zero = unname(predict(f, newdata = newdata, type = "zero")),
       pred_prob = unname(predict(f, newdata = newdata, type = "prob", at = at)))
}

zi <- function(formula, data, ...) {
  args <- list(...)
  refit <- function(ctl) do.call(zeroinfl, c(list(formula, data = data, control = ctl), args))
  polish(refit(ctl_zi()), refit, ctl_zi)
}
hu <- function(formula, data, ...) {
  args <- list(...)
  refit <- function(ctl) do.call(hurdle, c(list(formula, data = data, control = ctl), args))
  polish(refit(ctl_hu()), refit, ctl_hu)
}

bnew <- bioChemists[c(1, 50, 300, 700, 915), ]
snew <- s[c(1, 2, 3, 100, 600), ]
fb <- art ~ fem + mar + kid5 + phd + ment
fits <- list(
  zip = zi(fb, bioChemists, dist = "poisson"),
  zinb = zi(art ~ fem + mar + kid5 + phd + ment | ment + fem, bioChemists, dist = "negbin"),
  zigeo_probit = zi(art ~ fem + kid5 + ment | ment, bioChemists, dist = "geometric",
                    link = "probit"),
  zip_cloglog = zi(art ~ fem + kid5 + ment | kid5 + ment, bioChemists, dist = "poisson",
                   link = "cloglog"),
  hup = hu(fb, bioChemists, dist = "poisson"),
  hunb = hu(art ~ fem + mar + kid5 + phd + ment | ment + fem, bioChemists, dist = "negbin"),
  hunb_zpois = hu(art ~ fem + kid5 + ment | ment, bioChemists, dist = "negbin",
                  zero.dist = "poisson"),
  # the zero hurdle's theta is weakly identified here (SE of log theta ~6): compare logLik
  hup_znb = hu(art ~ fem + kid5 + ment | ment + kid5, bioChemists, dist = "poisson",
               zero.dist = "negbin"),
  hugeo_probit = hu(art ~ fem + kid5 + ment | kid5 + ment, bioChemists, dist = "geometric",
                    link = "probit")
)
out <- lapply(fits, out_fit, newdata = bnew)
# a hard start: in the first 500 rows every positive count is 1, so the zero-truncated
# start runs off (pscl falls back to a Poisson GLM's coefficients)
hard <- zi(art ~ ment, bioChemists[1:500, ], dist = "poisson")
out$hard_first500 <- list(coefficients = unname(coef(hard)), logLik = as.numeric(logLik(hard)))
# pscl's weighted negbin zeroinfl stops short of the maximum: its gradient of log(theta)
# (gradNegBin's wres_theta) leaves out the weights. The reference for frequency weights is
# therefore the fit of the expanded rows (weight k = k copies); pscl's weighted fit is kept
# to show that its logLik is the weighted likelihood at its (non-maximal) estimates.
s_exp <- s[rep(seq_len(n), s$w), ]
sim <- list(
  zinb = zi(y ~ x + g + offset(log(expo)) | z, s_exp, dist = "negbin"),
  zinb_pscl_weighted = zi(y ~ x + g + offset(log(expo)) | z, s, dist = "negbin",
                          weights = s$w),
  zip = zi(y ~ x + g + offset(log(expo)) | z + offset(0.2 * x), s, dist = "poisson"),
  hunb = hu(y ~ x + g + offset(log(expo)) | z + x, s, dist = "negbin", link = "cloglog",
            weights = s$w)
)
out_sim <- lapply(sim, out_fit, newdata = snew)

# Vuong's test as pscl::vuong, returning what it prints (pscl's code, return value changed)
vu <- pscl::vuong
b <- body(vu)
b[[length(b)]] <- quote(return(list(v = unname(v), pval = pval)))
body(vu) <- b
quiet <- function(e) { capture.output(r <- e); r }
pois <- glm(fb, data = bioChemists, family = poisson)
nb <- glm.nb(fb, data = bioChemists, control = glm.control(epsilon = 1e-14, maxit = 100))
vuong_out <- list(
  zip_pois = quiet(vu(fits$zip, pois)),
  pois_zip = quiet(vu(pois, fits$zip)),
  zinb_nb = quiet(vu(fits$zinb, nb)),
  hup_zip = quiet(vu(fits$hup, fits$zip)),
  pois_llf = as.numeric(logLik(pois)), nb_llf = as.numeric(logLik(nb)), nb_theta = nb$theta
)

write_json(list(biochemists = out, sim = out_sim, vuong = vuong_out), "ref_counts.json",
           digits = NA, auto_unbox = TRUE, pretty = TRUE, matrix = "rowmajor")

# LR test of nested fits (lmtest is not installed: the statistic by hand from logLik)
big <- fits$zinb
small <- zi(art ~ fem + mar + kid5 + phd + ment | ment, bioChemists, dist = "negbin")
lr <- list(stat = 2 * (as.numeric(logLik(big)) - as.numeric(logLik(small))),
           df = attr(logLik(big), "df") - attr(logLik(small), "df"))
lr$p <- pchisq(lr$stat, lr$df, lower.tail = FALSE)
write_json(lr, "ref_counts_lr.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
