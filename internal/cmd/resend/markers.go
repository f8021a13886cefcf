package resend

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Progress records live in S3, one small JSON object per (target, source
// object) under <prefix>/<target ID>/: S3 rather than a DynamoDB table
// because the operator already reads the archive and writes the quarantine
// bucket (redrive keeps its done-markers there too), so resend needs no
// resource the stack does not have; one object per pair has no write
// contention between workers, and S3's read-after-write consistency makes
// a marker written before an interruption visible to the next run.

// DefaultProgressPrefix is where progress records go in the progress bucket by default.
const DefaultProgressPrefix = "resend/progress"

// marker is the progress of one (target, source object) pair.
type marker struct {
	// Source is the archived object, s3://bucket/key.
	Source string `json:"source"`
	// Target is the target's name (route-target syntax).
	Target string `json:"target"`
	// Done lists the selections whose events all reached the target.
	Done []window `json:"done,omitempty"`
	// Partial is the selection being sent when a run stopped, and how far it got.
	Partial *partial `json:"partial,omitempty"`
	// Updated is when the record was last written.
	Updated time.Time `json:"updated"`
}

// window is a selection of an object's events: timestamps in [Since,
// Until) milliseconds and, if Regions is set, source region among them.
type window struct {
	Since   int64    `json:"since"`
	Until   int64    `json:"until"`
	Regions []string `json:"regions,omitempty"`
	// Events counts the events this selection sent (for the operator reading the record).
	Events int `json:"events"`
}

// partial says a run stopped after sending Records records of the
// selection whose fingerprint is Selection.
type partial struct {
	Selection string `json:"selection"`
	Records   int    `json:"records"`
	Events    int    `json:"events"`
}

// covers reports whether one earlier selection took every event w selects.
func (m *marker) covers(w window) bool {
	for _, d := range m.Done {
		if d.Since <= w.Since && d.Until >= w.Until && regionsCover(d.Regions, w.Regions) {
			return true
		}
	}
	return false
}

// regionsCover reports whether a selection of regions have (empty: all)
// takes every event a selection of regions want does.
func regionsCover(have, want []string) bool {
	if len(have) == 0 {
		return true
	}
	if len(want) == 0 {
		return false
	}
	for _, r := range want {
		if !slices.Contains(have, r) {
			return false
		}
	}
	return true
}

// sent reports whether an event of timestamp ts and source region was sent by an earlier selection.
func (m *marker) sent(ts int64, region string) bool {
	for _, d := range m.Done {
		if ts >= d.Since && ts < d.Until && (len(d.Regions) == 0 || slices.Contains(d.Regions, region)) {
			return true
		}
	}
	return false
}

// MarkerAPI is the S3 calls progress records need; *s3.Client implements it.
type MarkerAPI interface {
	ListAPI
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// markers reads and writes one target's progress records.
type markers struct {
	api    MarkerAPI
	bucket string
	dir    string // <prefix>/<target ID>/
	source string // the archive bucket, part of each record's name
	target string
	have   map[string]bool // record keys present when the run started
}

// TargetID names a target's progress records: a hash of where it
// delivers (its resolved destination), so two spellings of one
// destination share their records and two destinations never do.
func TargetID(destination string) string {
	sum := sha256.Sum256([]byte(destination))
	return hex.EncodeToString(sum[:8])
}

// loadMarkers lists the target's progress records.
func loadMarkers(ctx context.Context, api MarkerAPI, bucket, prefix, sourceBucket string, t *Target) (*markers, error) {
	m := &markers{api: api, bucket: bucket, source: sourceBucket, target: t.Name, have: map[string]bool{},
		dir: strings.Trim(prefix, "/") + "/" + TargetID(t.Destination) + "/"}
	p := s3.NewListObjectsV2Paginator(api, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(m.dir)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the progress records of %s at s3://%s/%s: %w", t.Name, bucket, m.dir, err)
		}
		for _, o := range page.Contents {
			m.have[aws.ToString(o.Key)] = true
		}
	}
	return m, nil
}

// key is the record of the archived object key: a hash, since archive
// keys may be near S3's 1,024-byte limit already.
func (m *markers) key(object string) string {
	sum := sha256.Sum256([]byte(m.source + "/" + object))
	return m.dir + hex.EncodeToString(sum[:20]) + ".json"
}

// get returns the object's record, empty when it has none.
func (m *markers) get(ctx context.Context, object string) (*marker, error) {
	k := m.key(object)
	if !m.have[k] {
		return &marker{Source: "s3://" + m.source + "/" + object, Target: m.target}, nil
	}
	out, err := m.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(k)}, quiet)
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return &marker{Source: "s3://" + m.source + "/" + object, Target: m.target}, nil
		}
		return nil, fmt.Errorf("read progress record s3://%s/%s: %w", m.bucket, k, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read progress record s3://%s/%s: %w", m.bucket, k, err)
	}
	var mk marker
	if err := json.Unmarshal(b, &mk); err != nil {
		return nil, fmt.Errorf("progress record s3://%s/%s is not JSON (%v): delete it to send the object to %s again", m.bucket, k, err, m.target)
	}
	return &mk, nil
}

// put writes the object's record.
func (m *markers) put(ctx context.Context, object string, mk *marker, now time.Time) error {
	mk.Updated = now.UTC()
	b, err := json.Marshal(mk)
	if err != nil {
		return err
	}
	k := m.key(object)
	_, err = m.api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(k), Body: bytes.NewReader(b),
		ContentLength: aws.Int64(int64(len(b))), ContentType: aws.String("application/json")})
	if err != nil {
		return fmt.Errorf("write progress record s3://%s/%s: %w", m.bucket, k, err)
	}
	return nil
}

// quiet stops the SDK logging, for every object, that an object written
// without a flexible checksum (moto, older writers) was not checked.
func quiet(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true }
