// Package quarantined lists and deletes the entries the consumers wrote to
// the S3 quarantine (see shared/quarantine/s3quarantine for the key layout):
// what redrive and the demo read back. Functions never link it.
package quarantined

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/quarantine/s3quarantine"
)

// ReadAPI is the S3 calls List makes; *s3.Client implements it.
type ReadAPI = readback.API

// DeleteObjectAPI is the S3 call Delete makes; *s3.Client implements it.
type DeleteObjectAPI interface {
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Item is one stored entry and its key.
type Item struct {
	Key   string
	Entry quarantine.Entry
}

// Get reads the entry at key.
func Get(ctx context.Context, client ReadAPI, bucket, key string) (Item, error) {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)},
		func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	if err != nil {
		return Item{}, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	body, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		return Item{}, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	e, err := s3quarantine.Decode(body)
	if err != nil {
		return Item{}, fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	return Item{Key: key, Entry: e}, nil
}

// List reads every entry under prefix (the quarantine's prefix, or a
// narrower one such as "<prefix>/record/"), sorted by key.
func List(ctx context.Context, client ReadAPI, bucket, prefix string) ([]Item, error) {
	keys, err := readback.Keys(ctx, client, bucket, prefix)
	if err != nil {
		return nil, err
	}
	items := make([]Item, 0, len(keys))
	for _, k := range keys {
		it, err := Get(ctx, client, bucket, k)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// Delete removes one entry, after a successful redrive.
func Delete(ctx context.Context, client DeleteObjectAPI, bucket, key string) error {
	if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("delete s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}
