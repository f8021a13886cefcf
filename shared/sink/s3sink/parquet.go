package s3sink

import (
	"bytes"
	"context"
	"fmt"

	"github.com/logfan/logfan/shared/parquetrec"
	"github.com/logfan/logfan/shared/s3layout"
)

// ParquetContentType is the Content-Type of Parquet objects (IANA-registered).
const ParquetContentType = "application/vnd.apache.parquet"

// contentType returns the objects' Content-Type for format.
func contentType(format string) string {
	if format == s3layout.FormatParquet {
		return ParquetContentType
	}
	return ContentType
}

// runParquet is run for the Parquet format: the same partitions, parts and
// keys (ending in s3layout.ExtParquet), each part one Parquet file. A part
// is bounded by parquetrec.Size, the events' field bytes, instead of NDJSON
// bytes.
func (w *worker) runParquet(ctx context.Context, j *job) {
	s, d := w.d.s, w.d
	if w.pq == nil {
		w.pq = s.pqPool.Get().(*parquetrec.Writer)
	}
	path := j.part.Path(s.cfg.Prefix)
	partNo := 0
	var p *part
	for _, sp := range j.spans {
		m := d.b.Records[sp.rec].Message
		for ei := sp.from; ei < sp.to; ei++ {
			ev := &m.LogEvents[ei]
			n := parquetrec.Size(m, ev)
			if p != nil && p.n > 0 && p.n+n > s.maxObjectBytes {
				if !w.finishParquet(ctx, p, path+parquetName(d, partNo)) {
					return
				}
				partNo++
				p = nil
			}
			if p == nil {
				if !d.needed(sp.rec) {
					return
				}
				p = &part{buf: s.bufPool.Get().(*bytes.Buffer), minRec: sp.rec}
				p.buf.Reset()
				w.pq.Reset(p.buf)
			}
			if err := w.pq.Add(m, ev); err != nil {
				d.fail(p.minRec, fmt.Errorf("parquet %s: %w", path, err))
				return
			}
			p.n += n
			w.recBytes[sp.rec] += n
		}
	}
	if p != nil {
		w.finishParquet(ctx, p, path+parquetName(d, partNo))
	}
}

// parquetName is ObjectName with the Parquet extension.
func parquetName(d *delivery, partNo int) string {
	return objectName(d.b.ShardID, d.first, d.last, partNo, s3layout.ExtParquet)
}

// finishParquet closes the part's Parquet file and uploads it.
func (w *worker) finishParquet(ctx context.Context, p *part, key string) bool {
	if err := w.pq.Close(); err != nil {
		w.d.fail(p.minRec, fmt.Errorf("parquet %s: %w", key, err))
		return false
	}
	return w.upload(ctx, p, key)
}
