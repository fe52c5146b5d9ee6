"""Everything that knows the DynamoDB table: keys, the client, one repository per aggregate."""
