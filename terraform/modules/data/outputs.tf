output "table_names" {
  description = "Table key in tables.yaml => DynamoDB table name."
  value       = { for key, table in aws_dynamodb_table.this : key => table.name }
}

output "table_stream_arns" {
  description = "Table key in tables.yaml => its stream's ARN, for the tables that have one."
  value       = { for key, table in aws_dynamodb_table.this : key => table.stream_arn if var.tables[key].stream != null }
}

output "table_arns" {
  description = "Table key in tables.yaml => table ARN (index ARNs are <arn>/index/<name>)."
  value       = { for key, table in aws_dynamodb_table.this : key => table.arn }
}
