package s3sink

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logfan/logfan/internal/devkit/benchinput"
	"github.com/logfan/logfan/internal/devkit/cputime"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/parquetrec"
	"github.com/logfan/logfan/shared/s3layout"
	"github.com/logfan/logfan/shared/subscription"
)

// countingClient passes PutObject on and counts the objects' bytes.
type countingClient struct {
	next  PutObjectAPI
	bytes atomic.Int64
}

func (c *countingClient) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.bytes.Add(aws.ToInt64(in.ContentLength))
	return c.next.PutObject(ctx, in, opts...)
}

// BenchmarkFormat is the whole S3 path (decode, encode, the SDK client on
// a fake transport) for a ~1.3 MB invocation (10 records x 1,000 events of
// one source) in each format: impl=ndjson (gzip level 1, the default) and
// impl=parquet (zstd fastest). stored-B/event is the objects' size per
// event, what S3 stores and Athena scans at most.
func BenchmarkFormat(b *testing.B) {
	for _, kind := range []string{eventgen.KindApp, eventgen.KindCloudTrail, eventgen.KindVPCFlow} {
		payloads := benchinput.Payloads(1, 10, 1000, kind)
		size := benchinput.UncompressedSize(payloads)
		const events = 10 * 1000
		for _, format := range []string{s3layout.FormatNDJSON, s3layout.FormatParquet} {
			b.Run("kind="+kind+"/impl="+format, func(b *testing.B) {
				client := &countingClient{next: benchClient()}
				var opts []Option
				if format == s3layout.FormatParquet {
					// s3parquet.Format, which this package's tests cannot import (it imports s3sink).
					opts = append(opts, WithColumnar(Columnar{NewWriter: func() ColumnarWriter { return parquetrec.NewWriter() },
						Size: parquetrec.Size, Extension: s3layout.ExtParquet, ContentType: parquetrec.ContentType}))
				}
				s := New(client, config.S3{Bucket: "bench-bucket", Prefix: "logs", Format: format}, opts...)
				dec := subscription.NewDecoder(0)
				b.SetBytes(size)
				b.ReportAllocs()
				cpu0 := cputime.Process()
				for b.Loop() {
					msgs := make([]*subscription.Message, len(payloads))
					for i, p := range payloads {
						m, err := dec.Decode(p)
						if err != nil {
							b.Fatal(err)
						}
						msgs[i] = m
					}
					if res := s.Deliver(context.Background(), toBatch(msgs)); res.FailedAt != -1 {
						b.Fatal(res.Err)
					}
				}
				b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/1e3/float64(b.N*events), "cpu-µs/event")
				b.ReportMetric(float64(client.bytes.Load())/float64(b.N*events), "stored-B/event")
			})
		}
	}
}
