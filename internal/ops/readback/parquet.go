package readback

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"

	"github.com/logfan/logfan/shared/parquetrec"
	"github.com/logfan/logfan/shared/record"
)

// DecodeParquet reads the records of one Parquet object the S3 sink wrote
// (its parquetrec format), in file order. extractedFields, a map of strings
// in Parquet, comes back as a JSON object of strings: a value the sender
// sent as a JSON number or object was stored as its JSON text, and comes
// back as that text in a string.
func DecodeParquet(r io.ReaderAt, size int64) ([]record.Event, error) {
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("open parquet file: %w", err)
	}
	rd := parquet.NewGenericReader[parquetrec.Row](f)
	// Close only releases the reader's buffers; the rows were read and checked.
	defer func() { _ = rd.Close() }()
	out := make([]record.Event, 0, rd.NumRows())
	rows := make([]parquetrec.Row, 512)
	for {
		n, err := rd.Read(rows)
		for _, row := range rows[:n] {
			ev := record.Event{
				Owner: row.Owner, LogGroup: row.LogGroup, LogStream: row.LogStream,
				SubscriptionFilters: row.SubscriptionFilters, ID: row.ID, Timestamp: row.Timestamp,
				Message: row.Message, PolicyLevel: row.PolicyLevel, Region: row.Region, HubAccount: row.HubAccount,
			}
			if row.ExtractedFields != nil {
				// Map keys are written sorted, so a row reads back the same every time.
				if ev.ExtractedFields, err = json.Marshal(*row.ExtractedFields); err != nil {
					return out, fmt.Errorf("row %d: extractedFields: %w", len(out), err)
				}
			}
			out = append(out, ev)
		}
		clear(rows[:n])
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read parquet rows: %w", err)
		}
	}
}

// DecodeParquetBytes is DecodeParquet over an object already in memory.
func DecodeParquetBytes(b []byte) ([]record.Event, error) {
	return DecodeParquet(bytes.NewReader(b), int64(len(b)))
}
