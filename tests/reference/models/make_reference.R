# Reference values for glmkit.multinom and glmkit.polr: nnet::multinom and MASS::polr
# (R 4.2, nnet and MASS from Debian's packages). Run from this folder: Rscript make_reference.R
# Both optimizers are run tightly (their defaults stop ~1e-6 relative from the maximum);
# polr is restarted from its own answer so BFGS ends at the maximum.
library(nnet)
library(MASS)
library(jsonlite)

set.seed(15)
n <- 300
d <- data.frame(x1 = rnorm(n), x2 = runif(n, -1, 2),
                g = factor(sample(c("a", "b", "c"), n, TRUE)),
                w = sample(1:3, n, TRUE))
eta <- cbind(0, 0.4 + 0.8 * d$x1, -0.3 + 0.5 * d$x2 + (d$g == "b"),
             0.2 - 0.6 * d$x1 + 0.4 * d$x2 - 0.7 * (d$g == "c"))
p <- exp(eta) / rowSums(exp(eta))
d$y <- factor(apply(p, 1, function(pr) sample(c("lo", "mid", "hi", "top"), 1, prob = pr)),
              levels = c("hi", "lo", "mid", "top"))
# ordinal response from a latent logistic variable
lat <- 0.9 * d$x1 - 0.5 * d$x2 + 0.6 * (d$g == "b") + rlogis(n)
d$o <- cut(lat, c(-Inf, -1, 0, 1.2, Inf), labels = c("none", "low", "some", "many"),
           ordered_result = TRUE)
write.csv(d, "data_sim.csv", row.names = FALSE)
write.csv(housing, "data_housing.csv", row.names = FALSE)

mn <- function(fit) {
  s <- summary(fit)
  cf <- coef(fit)
  list(coefficients = unname(cf), rownames = rownames(cf), colnames = colnames(cf),
       se = unname(s$standard.errors), vcov = unname(vcov(fit)),
       deviance = deviance(fit), logLik = as.numeric(logLik(fit)), AIC = AIC(fit),
       edf = fit$edf, fitted = unname(fitted(fit)))
}
m_full <- multinom(y ~ x1 + x2 + g, data = d, maxit = 10000, abstol = 1e-14,
                   reltol = 1e-14, trace = FALSE, Hess = TRUE)
m_small <- multinom(y ~ x1, data = d, maxit = 10000, abstol = 1e-14, reltol = 1e-14,
                    trace = FALSE, Hess = TRUE)
m_w <- multinom(y ~ x1 + x2 + g, data = d, weights = w, maxit = 10000, abstol = 1e-14,
                reltol = 1e-14, trace = FALSE, Hess = TRUE)
m_noint <- multinom(y ~ 0 + x1 + x2, data = d, maxit = 10000, abstol = 1e-14,
                    reltol = 1e-14, trace = FALSE, Hess = TRUE)
nd <- data.frame(x1 = c(-1, 0, 1.5), x2 = c(0, 1, -0.5), g = factor(c("a", "b", "c")))
pr_full <- predict(m_full, newdata = nd, type = "probs")
a <- anova(m_small, m_full)

pl <- function(formula, data, method, weighted = FALSE) {
  ctl <- list(reltol = 1e-15, maxit = 10000)
  data$wt <- if (weighted) data$wcol else rep(1, nrow(data))
  # polr's own start fails for some links: start from the logistic fit, scaled
  f0 <- polr(formula, data = data, weights = wt)
  s0 <- c(coef(f0), f0$zeta) / switch(method, logistic = 1, probit = 1.7, 1.3)
  f <- polr(formula, data = data, method = method, Hess = TRUE, control = ctl,
            weights = wt, start = s0)
  for (i in 1:5) {   # restart from the answer: BFGS stops early otherwise
    st <- c(coef(f), f$zeta)
    f <- polr(formula, data = data, method = method, Hess = TRUE, control = ctl,
              weights = wt, start = st)
  }
  list(coefficients = unname(coef(f)), names = names(coef(f)), zeta = unname(f$zeta),
       zeta_names = names(f$zeta), vcov = unname(vcov(f)), se = unname(sqrt(diag(vcov(f)))),
       deviance = f$deviance, logLik = as.numeric(logLik(f)), AIC = AIC(f),
       fitted = unname(fitted(f)))
}
# weights as a column of the data, so polr's model.frame finds them
hw <- housing; hw$wcol <- hw$Freq
hous <- lapply(c("logistic", "probit", "cloglog", "loglog", "cauchit"), function(m)
  pl(Sat ~ Infl + Type + Cont, hw, m, weighted = TRUE))
names(hous) <- c("logistic", "probit", "cloglog", "loglog", "cauchit")
sim <- lapply(c("logistic", "probit"), function(m) pl(o ~ x1 + x2 + g, d, m))
names(sim) <- c("logistic", "probit")
simoff <- pl(o ~ x1 + g + offset(0.5 * x2), d, "logistic")
dw <- d; dw$wcol <- d$w
simw <- pl(o ~ x1 + x2 + g, dw, "logistic", weighted = TRUE)
ps <- polr(o ~ x1 + x2 + g, data = d, Hess = TRUE, control = list(reltol = 1e-15, maxit = 10000))
pr_polr <- predict(ps, newdata = nd, type = "probs")

out <- list(
  multinom = list(full = mn(m_full), small = mn(m_small), weighted = mn(m_w),
                  noint = mn(m_noint), predict_full = unname(pr_full),
                  anova = list(LR = a[["LR stat."]][2], df = a[["   Df"]][2],
                               p = a[["Pr(Chi)"]][2])),
  polr = list(housing = hous, sim = sim, sim_weighted = simw, sim_offset = simoff,
              predict_sim = unname(pr_polr))
)
write_json(out, "ref_models.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, matrix = "rowmajor")
