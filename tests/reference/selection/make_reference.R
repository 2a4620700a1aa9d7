# Reference values for glmkit.drop1 / add1 / step: R 4.2's stats::drop1.glm, add1.glm and
# step, on MASS's birthwt (binomial), R's mtcars (gaussian) and MASS's quine (poisson,
# gamma). Run from this folder: Rscript make_reference.R
# Every glm is fitted with epsilon = 1e-14 (drop1/add1/step refit with the model's
# control): R's Rao scores use glm.fit's last working weights, one iteration behind its
# coefficients, which at the default 1e-8 moves them in the 4th digit.
library(MASS)
library(jsonlite)
ctl <- glm.control(epsilon = 1e-14, maxit = 100)

tab <- function(a) {
  out <- list(rows = rownames(a))
  for (nm in names(a)) out[[nm]] <- unname(as.numeric(a[[nm]]))
  out
}
path <- function(s) list(step = as.character(s$anova$Step), df = s$anova$Df,
                         deviance = s$anova$Deviance, resid_df = s$anova[["Resid. Df"]],
                         resid_dev = s$anova[["Resid. Dev"]], aic = s$anova$AIC,
                         final_coef = unname(coef(s)), final_terms = attr(terms(s), "term.labels"))

bw <- with(birthwt, data.frame(low = low, age = age, lwt = lwt, race = factor(race),
                                smoke = smoke, ptl = ptl, ht = ht, ui = ui, ftv = ftv))
write.csv(bw, "data_birthwt.csv", row.names = FALSE)
b_full <- glm(low ~ age + lwt + race + smoke + ptl + ht + ui + ftv, binomial, data = bw, control = ctl)
b_small <- glm(low ~ lwt + race, binomial, data = bw, control = ctl)

write.csv(mtcars, "data_mtcars.csv", row.names = FALSE)
m_full <- glm(mpg ~ cyl + disp + hp + drat + wt + qsec, data = mtcars, control = ctl)

write.csv(quine, "data_quine.csv", row.names = FALSE)
q_pois <- glm(Days ~ Eth * Sex + Age + Lrn, poisson, data = quine, control = ctl)
q_gamma <- glm((Days + 1) ~ Eth + Sex + Age + Lrn, Gamma(link = "log"), data = quine, control = ctl)

out <- list(
  drop1_binomial = tab(drop1(b_full)),
  drop1_binomial_lrt = tab(drop1(b_full, test = "LRT")),
  drop1_binomial_rao = tab(drop1(b_full, test = "Rao")),
  drop1_binomial_bic = tab(drop1(b_full, k = log(nrow(bw)))),
  drop1_gaussian_f = tab(drop1(m_full, test = "F")),
  drop1_gaussian_lrt = tab(drop1(m_full, test = "LRT")),
  drop1_poisson_lrt = tab(drop1(q_pois, test = "LRT")),
  drop1_gamma_f = tab(drop1(q_gamma, test = "F")),
  add1_binomial = tab(add1(b_small, ~ . + age + smoke + ptl + ht + ui + ftv, test = "LRT")),
  add1_binomial_rao = tab(add1(b_small, ~ . + age + smoke + ht, test = "Rao")),
  add1_gaussian_f = tab(add1(glm(mpg ~ wt, data = mtcars, control = ctl), ~ . + cyl + hp + qsec, test = "F")),
  step_binomial_backward = path(step(b_full, trace = 0)),
  step_binomial_both = path(step(b_small, scope = list(lower = ~ lwt, upper = ~ age + lwt + race + smoke + ptl + ht + ui + ftv), trace = 0)),
  step_gaussian_bic = path(step(m_full, k = log(32), trace = 0)),
  step_poisson_forward = path(step(glm(Days ~ 1, poisson, data = quine, control = ctl), scope = ~ Eth * Sex + Age + Lrn, direction = "forward", trace = 0))
)
write_json(out, "ref_selection.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
