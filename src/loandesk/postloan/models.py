"""Close of business (COB) runs and steps, delinquency settings and portfolio snapshots."""
