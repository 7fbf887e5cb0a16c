"""Connected social accounts: TikTok, X, LinkedIn, Facebook Pages and Instagram behind one
provider interface."""
