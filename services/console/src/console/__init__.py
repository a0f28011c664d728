"""Herald's web console: pages for the people who run a business's social accounts."""
