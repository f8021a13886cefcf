package s3sink

import (
	"context"
	"fmt"

	"io"

	"github.com/logfan/logfan/shared/subscription"
)

// ColumnarWriter writes the events of one object in a columnar format
// (Parquet: see package s3sink/s3parquet). The sink takes it by option so
// that the S3 function's binary does not link a Parquet library it does not
// use: only the s3parquet function does.
type ColumnarWriter interface {
	// Reset starts a new file written to out.
	Reset(out io.Writer)
	// Add appends one event.
	Add(m *subscription.Message, ev *subscription.LogEvent) error
	// Close finishes the file.
	Close() error
}

// Columnar is a columnar object format for WithColumnar.
type Columnar struct {
	// NewWriter returns a writer; writers are pooled and reused.
	NewWriter func() ColumnarWriter
	// Size is an event's share of an object, bounded by MaxObjectBytes.
	Size func(m *subscription.Message, ev *subscription.LogEvent) int64
	// Extension ends the object keys (e.g. ".parquet").
	Extension string
	// ContentType is the objects' Content-Type.
	ContentType string
}

// WithColumnar makes the sink write objects in a columnar format instead of
// gzip NDJSON: the same partitions, parts and keys, with c's extension.
func WithColumnar(c Columnar) Option { return func(s *Sink) { s.columnar = &c } }

// contentType returns the objects' Content-Type.
func (s *Sink) contentType() string {
	if s.columnar != nil {
		return s.columnar.ContentType
	}
	return ContentType
}

// runParquet is run for a columnar format: the same partitions, parts and
// keys (with the format's extension), each part one file. A part is bounded
// by the format's Size of the events instead of NDJSON bytes.
func (w *worker) runParquet(ctx context.Context, j *job) {
	s, d := w.d.s, w.d
	if w.pq == nil {
		w.pq = s.pqPool.Get().(ColumnarWriter)
	}
	path := j.part.Path(s.cfg.Prefix)
	var p *part
	for si, sp := range j.spans {
		m := d.b.Records[sp.rec].Message
		for ei := sp.from; ei < sp.to; ei++ {
			ev := &m.LogEvents[ei]
			n := s.columnar.Size(m, ev)
			if p != nil && p.n > 0 && p.n+n > s.maxObjectBytes {
				p.close(si, ei)
				if !w.finishParquet(ctx, p, path+p.name(d, s.columnar.Extension)) {
					return
				}
				p = nil
			}
			if p == nil {
				if p = w.startPart(j, si, ei); p == nil {
					return
				}
				w.pq.Reset(p.buf)
			}
			if err := w.pq.Add(m, ev); err != nil {
				d.fail(p.minRec, fmt.Errorf("columnar %s: %w", path, err))
				return
			}
			p.n += n
			w.recBytes[sp.rec] += n
		}
	}
	if p != nil {
		p.closeAtEnd()
		w.finishParquet(ctx, p, path+p.name(d, s.columnar.Extension))
	}
}

// finishParquet closes the part's file and uploads it.
func (w *worker) finishParquet(ctx context.Context, p *part, key string) bool {
	if err := w.pq.Close(); err != nil {
		w.d.fail(p.minRec, fmt.Errorf("columnar %s: %w", key, err))
		return false
	}
	return w.upload(ctx, p, key)
}
