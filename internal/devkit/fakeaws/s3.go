package fakeaws

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3 is an in-memory bucket for the object calls logfan makes (PutObject,
// GetObject, ListObjectsV2), safe for concurrent use: tests read back what
// a sink or command wrote, benchmarks measure their own work without a
// network. Keys are the whole name space (the bucket is not looked at).
// The zero value is an empty bucket.
type S3 struct {
	// Fail, when set, is asked before each PutObject, call counting the
	// calls for key from 1; its error fails the call and nothing is stored.
	Fail func(ctx context.Context, key string, call int) error

	mu      sync.Mutex
	objects map[string][]byte
	inputs  map[string]s3.PutObjectInput
	calls   map[string]int
}

// PutObject stores the object's body and its input (without the body).
// It fails, as S3 would, when a ContentLength is set and the body is not
// that long.
func (f *S3) PutObject(ctx context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	key := aws.ToString(in.Key)
	f.mu.Lock()
	if f.calls == nil {
		f.objects, f.inputs, f.calls = map[string][]byte{}, map[string]s3.PutObjectInput{}, map[string]int{}
	}
	f.calls[key]++
	call := f.calls[key]
	f.mu.Unlock()
	if f.Fail != nil {
		if err := f.Fail(ctx, key, call); err != nil {
			return nil, err
		}
	}
	body, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	if in.ContentLength != nil && int64(len(body)) != *in.ContentLength {
		return nil, fmt.Errorf("content length %d, body %d", *in.ContentLength, len(body))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[key] = body
	cp := *in
	cp.Body = nil
	f.inputs[key] = cp
	return &s3.PutObjectOutput{}, nil
}

// GetObject returns a stored object, or types.NoSuchKey.
func (f *S3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	b, ok := f.Object(aws.ToString(in.Key))
	if !ok {
		return nil, &types.NoSuchKey{}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b)), ContentLength: aws.Int64(int64(len(b)))}, nil
}

// ListObjectsV2 lists the keys under the prefix in order, in one page,
// folding those past the delimiter into common prefixes.
func (f *S3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	prefix, delim := aws.ToString(in.Prefix), aws.ToString(in.Delimiter)
	out := &s3.ListObjectsV2Output{}
	seen := map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(f.objects)) {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp := k[:len(prefix)+i+1]
				if !seen[cp] {
					seen[cp] = true
					out.CommonPrefixes = append(out.CommonPrefixes, types.CommonPrefix{Prefix: aws.String(cp)})
				}
				continue
			}
		}
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k), Size: aws.Int64(int64(len(f.objects[k])))})
	}
	return out, nil
}

// Keys returns the stored keys, in order.
func (f *S3) Keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.objects))
}

// Object returns the body stored under key.
func (f *S3) Object(key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.objects[key]
	return b, ok
}

// Objects returns a copy of every stored body by key.
func (f *S3) Objects() map[string][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.objects)
}

// Input returns the PutObject input that stored key, without its body.
func (f *S3) Input(key string) (s3.PutObjectInput, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in, ok := f.inputs[key]
	return in, ok
}
