package record

// Column is one field of the record as a table column: its JSON name and
// its Hive type, as Glue and Athena declare it.
type Column struct {
	Name string
	Type string
}

// Columns are the record's fields in the order AppendJSON writes them (new
// ones last, so tables over older objects read them as null), with
// their Hive types: the schema of the S3 sink's NDJSON lines and Parquet
// rows, and of the recipient stack's Glue table (which leaves out owner, a
// partition key there). Tests hold Event, AppendJSON and the Parquet row
// to it.
var Columns = []Column{
	{"owner", "string"},
	{"logGroup", "string"},
	{"logStream", "string"},
	{"subscriptionFilters", "array<string>"},
	{"id", "string"},
	{"timestamp", "bigint"},
	{"message", "string"},
	{"extractedFields", "map<string,string>"},
	{"policyLevel", "string"},
	{"region", "string"},
	{"hubAccount", "string"},
}
