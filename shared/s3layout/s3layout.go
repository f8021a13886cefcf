// Package s3layout is the one definition of the S3 sink's object key
// layout: the Hive-style partition keys, how their values are escaped
// (Escape, as Hive escapes partition directories, so Athena, Glue and Spark
// read them back; the quarantine's keys use it too) and bounded
// (PartitionValue), the event hour a key holds (HourOf), the object names
// (ObjectName), keys parsed back (ParsePath), and the objects' extensions
// per format. The sink builds its keys with
// Dir and the recipient stack builds the Glue table's partition keys and
// its partition-projection storage.location.template with the same
// constants and LocationTemplate, so the table cannot drift from what lands:
//
//	<prefix>/owner=<owner>/log_group=<group>/dt=YYYY-MM-DD/hour=HH/<name><ext>
package s3layout

import (
	"strings"

	"github.com/logfan/logfan/shared/record"
)

// Partition keys, in key order.
const (
	// KeyOwner holds the sender account ID (escaped, as every value).
	KeyOwner = "owner"
	// KeyLogGroup holds the source log group, escaped ("%2Faws%2Flambda%2Ffn").
	KeyLogGroup = "log_group"
	// KeyDate holds the event's UTC day, DateLayout.
	KeyDate = "dt"
	// KeyHour holds the event's UTC hour, two digits ("00" to "23").
	KeyHour = "hour"
)

// PartitionKeys lists the partition keys in the order they appear in a key.
var PartitionKeys = [...]string{KeyOwner, KeyLogGroup, KeyDate, KeyHour}

// Value formats.
const (
	// DateLayout is KeyDate's Go time layout.
	DateLayout = "2006-01-02"
	// DateFormat is DateLayout in Java's DateTimeFormatter syntax, which
	// Athena's date projection (projection.dt.format) takes.
	DateFormat = "yyyy-MM-dd"
	// HourLayout is KeyHour's Go time layout.
	HourLayout = "15"
	// HourDigits is the width of KeyHour's values (projection.hour.digits).
	HourDigits = 2
)

// Formats of the objects, the values of LOGFAN_S3_FORMAT and the s3Format
// context key.
const (
	// FormatNDJSON is gzip-compressed NDJSON, one record per line (the default).
	FormatNDJSON = "ndjson"
	// FormatParquet is one Parquet file per object.
	FormatParquet = "parquet"
)

// Extensions of the objects per format. Athena, Glue and Spark pick the
// gzip codec from ".gz"; Parquet files name their codec inside.
const (
	ExtNDJSON  = ".ndjson.gz"
	ExtParquet = ".parquet"
)

// Extension returns the objects' extension for format (NDJSON for any other value).
func Extension(format string) string {
	if format == FormatParquet {
		return ExtParquet
	}
	return ExtNDJSON
}

// Dir returns the directory of one partition under prefix, with a trailing
// slash. The values must already be escaped and formatted (owner and
// logGroup escaped, day per DateLayout, hour per HourLayout).
func Dir(prefix, owner, logGroup, day, hour string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(owner) + len(logGroup) + len(day) + len(hour) + 32)
	if prefix != "" {
		b.WriteString(prefix)
		b.WriteByte('/')
	}
	for i, v := range [...]string{owner, logGroup, day, hour} {
		b.WriteString(PartitionKeys[i])
		b.WriteByte('=')
		b.WriteString(v)
		b.WriteByte('/')
	}
	return b.String()
}

// LocationTemplate returns the storage.location.template of a Glue table
// with partition projection over the objects under base (an s3:// URL of
// the bucket and prefix, without a trailing slash): Dir with each value
// replaced by Athena's ${key} placeholder, which Athena fills with the
// projected value as it is, unescaped.
func LocationTemplate(base string) string {
	var p [len(PartitionKeys)]string
	for i, k := range PartitionKeys {
		p[i] = "${" + k + "}"
	}
	return Dir(base, p[0], p[1], p[2], p[3])
}

// TableColumns are the columns of a table over the objects: the record's
// fields (record.Columns) except owner, which is a partition key (Glue
// rejects a name used twice). Names are in lower case, as Athena keeps
// them; its JSON SerDe matches keys without regard to case, and it reads
// Parquet columns by name the same way.
func TableColumns() []record.Column {
	var cols []record.Column
	for _, c := range record.Columns {
		if c.Name == KeyOwner {
			continue
		}
		cols = append(cols, record.Column{Name: strings.ToLower(c.Name), Type: c.Type})
	}
	return cols
}

// PartitionColumns are the partition keys as table columns, in key order:
// all strings but the hour, an int (Athena's integer projection pads it to
// HourDigits in the location).
func PartitionColumns() []record.Column {
	cols := make([]record.Column, len(PartitionKeys))
	for i, k := range PartitionKeys {
		cols[i] = record.Column{Name: k, Type: "string"}
		if k == KeyHour {
			cols[i].Type = "int"
		}
	}
	return cols
}
