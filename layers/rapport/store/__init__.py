"""Records in DynamoDB, through pynamodb: the models and the repositories that use them."""
