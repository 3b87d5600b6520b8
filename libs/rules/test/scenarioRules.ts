/** The SCENARIOS.md rules, written as a rule author would (also shown in README.md). */
export const scenarioRules = `
version: 1
rules:
  - id: pricing-abandon
    version: 1
    name: Pricing viewed, no purchase
    priority: 10
    cooldown: 7d
    action: { journey: pricing-abandon }
    when:
      absent:
        name: Completed Purchase
        within: 48h
        after:
          name: Started Checkout
          when:
            all:
              - trait: { sessionCount: { gt: 1 } }
              - event: { name: Viewed Pricing, within: 48h }

  - id: advanced-feature-nudge
    version: 1
    name: Advanced feature viewed, not used
    priority: 5
    cooldown: 7d
    action: { journey: advanced-feature-onboarding }
    when:
      absent:
        name: Used Feature
        where: { tier: advanced }
        within: 72h
        after: { name: Viewed Feature, where: { tier: advanced } }

  - id: discount-offer
    version: 1
    name: Discount on abandoned cart
    priority: 10
    group: promo
    cooldown: 1d
    caps: [{ max: 2, per: 24h }]
    action: { journey: discount, experiment: discount-size }
    when:
      event: { name: Abandoned Cart, within: 1h }

  - id: gentle-reminder
    version: 1
    name: Reminder on abandoned cart
    priority: 5
    group: promo
    cooldown: 1d
    action: { journey: reminder }
    when:
      event: { name: Abandoned Cart, within: 1h }

  - id: survey
    version: 1
    name: Why did you leave?
    priority: 1
    cooldown: 30d
    action: { journey: exit-survey }
    when:
      event: { name: Abandoned Cart, within: 1h }

  - id: win-back
    version: 1
    name: Win back lapsed buyers
    priority: 3
    consent: marketing
    cooldown: 30d
    action: { journey: win-back }
    when:
      all:
        - event: { name: Completed Purchase, count: { gte: 1 }, within: 90d }
        - not: { event: { name: Session Started, within: 14d } }
`
