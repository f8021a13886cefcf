// Package parquetrec writes logfan's output records (shared/record) as
// Parquet files, for the S3 sink's Parquet format: one row per log event,
// the same fields under the same names as the NDJSON lines, so one Glue
// table definition reads either format by column name.
//
// Strings are written as valid UTF-8 (Parquet's STRING type requires it),
// repaired as the NDJSON writer does (jsonstr.Repair), so both formats store
// the same text. extractedFields, a JSON object in NDJSON, is a MAP of
// strings; a value that is not a JSON string keeps its JSON text.
package parquetrec

import (
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/valyala/fastjson"

	"github.com/logfan/logfan/shared/jsonstr"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/subscription"
)

// Row is one record as a Parquet row. The column names are record.Record's
// JSON names; optional columns are null where the NDJSON line omits the field.
// ExtractedFields is a pointer because parquet-go v0.32.0 writes a nil map
// in an optional field as an empty map, not null, for all but one row of a
// file (seen through DuckDB in internal/devkit/athenacheck); a nil pointer
// is written as null.
type Row struct {
	Owner               string             `parquet:"owner"`
	LogGroup            string             `parquet:"logGroup"`
	LogStream           string             `parquet:"logStream"`
	SubscriptionFilters []string           `parquet:"subscriptionFilters,list"`
	ID                  string             `parquet:"id"`
	Timestamp           int64              `parquet:"timestamp"`
	Message             string             `parquet:"message"`
	ExtractedFields     *map[string]string `parquet:"extractedFields,optional"`
	PolicyLevel         string             `parquet:"policyLevel,optional"`
	Region              string             `parquet:"region,optional"`
	HubAccount          string             `parquet:"hubAccount,optional"`
}

// batchRows is how many rows are gathered before one Write to the Parquet
// writer, which costs less per row on larger slices.
const batchRows = 512

// ContentType is the Content-Type of Parquet objects (IANA-registered).
const ContentType = "application/vnd.apache.parquet"

// Writer writes one Parquet file at a time: Reset, Add the rows, Close.
// It is reused across files (its buffers stay allocated); it is not safe
// for concurrent use.
type Writer struct {
	w    *parquet.GenericWriter[Row]
	rows []Row
	p    fastjson.Parser
}

// NewWriter returns a Writer compressing pages with zstd at its fastest
// level, which Athena, Spark and DuckDB read. Call Reset before the first Add.
func NewWriter() *Writer {
	return &Writer{
		w: parquet.NewGenericWriter[Row](io.Discard,
			parquet.Compression(&zstd.Codec{Level: zstd.SpeedFastest}),
			parquet.CreatedBy("logfan", "", ""),
		),
		rows: make([]Row, 0, batchRows),
	}
}

// Reset starts a new file written to out.
func (w *Writer) Reset(out io.Writer) {
	w.rows = w.rows[:0]
	w.w.Reset(out)
}

// Add appends the row of event ev of message m.
func (w *Writer) Add(m *subscription.Message, ev *subscription.LogEvent) error {
	rec := record.From(m, ev) // strings repaired as the NDJSON writer does
	row := Row{
		Owner: rec.Owner, LogGroup: rec.LogGroup, LogStream: rec.LogStream,
		SubscriptionFilters: rec.SubscriptionFilters,
		ID:                  rec.ID, Timestamp: rec.Timestamp, Message: rec.Message,
		PolicyLevel: rec.PolicyLevel, Region: rec.Region, HubAccount: rec.HubAccount,
	}
	if row.SubscriptionFilters == nil {
		row.SubscriptionFilters = []string{} // an empty list, as NDJSON writes [], not null
	}
	if len(ev.ExtractedFields) > 0 {
		fields, err := w.fields(ev.ExtractedFields)
		if err != nil {
			return fmt.Errorf("event %s: extractedFields: %w", ev.ID, err)
		}
		row.ExtractedFields = &fields
	}
	w.rows = append(w.rows, row)
	if len(w.rows) == cap(w.rows) {
		return w.flushRows()
	}
	return nil
}

// fields decodes an extractedFields object into a map of strings.
func (w *Writer) fields(raw []byte) (map[string]string, error) {
	v, err := w.p.ParseBytes(raw)
	if err != nil {
		return nil, err
	}
	o, err := v.Object()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, o.Len())
	o.Visit(func(k []byte, v *fastjson.Value) {
		if s, err := v.StringBytes(); err == nil {
			out[jsonstr.Repair(string(k))] = jsonstr.Repair(string(s))
		} else {
			out[jsonstr.Repair(string(k))] = jsonstr.Repair(string(v.MarshalTo(nil)))
		}
	})
	return out, nil
}

func (w *Writer) flushRows() error {
	if len(w.rows) == 0 {
		return nil
	}
	if _, err := w.w.Write(w.rows); err != nil {
		return fmt.Errorf("write parquet rows: %w", err)
	}
	clear(w.rows) // drop the references to the batch's strings
	w.rows = w.rows[:0]
	return nil
}

// Close writes the remaining rows and the file's footer.
func (w *Writer) Close() error {
	if err := w.flushRows(); err != nil {
		return err
	}
	if err := w.w.Close(); err != nil {
		return fmt.Errorf("close parquet file: %w", err)
	}
	return nil
}

// Size is what an event counts towards an object's size bound and the
// sink's delivered bytes in Parquet format: the bytes of its fields'
// values, about its NDJSON line less the field names and quoting, counted
// without encoding anything.
func Size(m *subscription.Message, ev *subscription.LogEvent) int64 {
	n := len(m.Owner) + len(m.LogGroup) + len(m.LogStream) + len(ev.ID) + 8 + len(ev.Message) + len(ev.ExtractedFields) + len(m.PolicyLevel) +
		len(m.Region) + len(m.HubAccount)
	for _, f := range m.SubscriptionFilters {
		n += len(f)
	}
	return int64(n)
}
