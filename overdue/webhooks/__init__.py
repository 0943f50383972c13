"""What comes back from the providers: delivery reports, customers' replies, unsubscribes (`overdue webhooks serve`)."""
