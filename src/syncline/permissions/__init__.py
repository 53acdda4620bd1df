"""Who may read each synced item: the authorization model as data, and its evaluator."""
