"""Rules with their codes and Dutch messages, and the Great Expectations glue that runs them."""
