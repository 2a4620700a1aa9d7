# Reference values for glmkit.checks (tests/test_checks.py).
# R 4.2 with MASS, AER and jsonlite. ResourceSelection is not installed here, so its
# hoslem.test is written out below line for line (ResourceSelection 0.3-5's code:
# groups by cut(yhat, unique(quantile(yhat, seq(0, 1, 1/g))), include.lowest = TRUE),
# chisq = sum((observed - expected)^2 / expected) over both columns, df = g - 2).
# Run from this folder: Rscript make_reference.R
suppressMessages({library(MASS); library(AER); library(jsonlite)})

hoslem <- function(x, yhat, g = 10) {
  qq <- unique(quantile(yhat, probs = seq(0, 1, 1 / g)))
  cutyhat <- cut(yhat, breaks = qq, include.lowest = TRUE)
  observed <- xtabs(cbind(y0 = 1 - x, y1 = x) ~ cutyhat)
  expected <- xtabs(cbind(yhat0 = 1 - yhat, yhat1 = yhat) ~ cutyhat)
  chisq <- sum((observed - expected)^2 / expected)
  list(statistic = chisq, parameter = g - 2, p_value = 1 - pchisq(chisq, g - 2),
       observed1 = as.numeric(observed[, 2]), expected1 = as.numeric(expected[, 2]),
       n = as.numeric(table(cutyhat)))
}

# --- binomial: MASS::birthwt, low ~ age + lwt + race + smoke + ptl + ht + ui ---------
bw <- birthwt
bw$race <- factor(bw$race, labels = c("white", "black", "other"))
fit <- glm(low ~ age + lwt + race + smoke + ptl + ht + ui, family = binomial, data = bw)
p <- fitted(fit)
write.csv(bw[, c("low", "age", "lwt", "race", "smoke", "ptl", "ht", "ui")],
          "birthwt.csv", row.names = FALSE)
binom <- list(
  fitted = as.numeric(p),
  hoslem_g10 = hoslem(bw$low, p, 10),
  hoslem_g5 = hoslem(bw$low, p, 5),
  brier = mean((bw$low - p)^2),
  log_loss = -mean(bw$low * log(p) + (1 - bw$low) * log(1 - p)),
  # AUC by the Mann-Whitney statistic (ties count one half)
  auc = {r <- rank(p); n1 <- sum(bw$low); n0 <- sum(1 - bw$low);
         (sum(r[bw$low == 1]) - n1 * (n1 + 1) / 2) / (n1 * n0)},
  confusion_05 = as.numeric(table(factor(bw$low, 0:1), factor(p > 0.5, c(FALSE, TRUE)))),
  d2 = 1 - deviance(fit) / fit$null.deviance
)

# --- counts: AER::RecreationDemand, AER's dispersiontest examples -------------------
data("RecreationDemand", package = "AER")
rd <- glm(trips ~ ., data = RecreationDemand, family = poisson)
write.csv(RecreationDemand, "recreation.csv", row.names = FALSE)
dt <- function(d) list(statistic = unname(d$statistic), p_value = d$p.value,
                       estimate = unname(d$estimate))
mu <- fitted(rd); y <- RecreationDemand$trips
k <- 0:max(y)
nb <- glm.nb(trips ~ ., data = RecreationDemand)
counts <- list(
  fitted = as.numeric(mu),
  disp_default = dt(dispersiontest(rd)),
  disp_trafo1 = dt(dispersiontest(rd, trafo = 1)),
  disp_trafo2 = dt(dispersiontest(rd, trafo = 2)),
  disp_two_sided = dt(dispersiontest(rd, alternative = "two.sided")),
  obs_mean = mean(y), obs_var = var(y),
  # rootogram (countreg's): observed and expected frequencies of 0..max(y)
  root_observed = as.numeric(table(factor(y, levels = k))),
  root_expected = sapply(k, function(j) sum(dpois(j, mu))),
  nb_theta = nb$theta,
  root_expected_nb = sapply(k, function(j) sum(dnbinom(j, mu = fitted(nb), size = nb$theta))),
  d2 = 1 - deviance(rd) / rd$null.deviance
)
# --- heavily tied probabilities: equal quantiles merged by unique() -----------------------
set.seed(1); pt <- round(runif(300, 0.05, 0.95), 1); pt[1:100] <- 0.3
yt <- rbinom(300, 1, pt)
ties <- list(y = yt, p = pt, hoslem_g10 = hoslem(yt, pt, 10), hoslem_g7 = hoslem(yt, pt, 7))
writeLines(toJSON(list(binomial = binom, counts = counts, ties = ties), digits = NA,
                  auto_unbox = TRUE), "checks.json")
