"""Pure customer analytics over numpy arrays: no database, no web stack.

bgnbd (purchases, P(alive)), gamma_gamma (spend per purchase), clv (predicted value),
rfm, churn, satisfaction (NPS, CSAT), competence (value groups, value-creation modes),
tiers, cohorts (k-anonymous comparisons), scores (rank-based quintiles).
See docs/analytics.md for the models, inputs, units and references.
"""
