package fakeaws

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestS3 holds the in-memory bucket to what the tests using it rely on:
// a body of the wrong length and a Fail hook store nothing, a missing key
// is NoSuchKey, and a listing folds keys past the delimiter.
func TestS3(t *testing.T) {
	ctx := context.Background()
	var f S3
	put := func(key, body string, length int64) error {
		_, err := f.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String(key), Body: strings.NewReader(body), ContentLength: aws.Int64(length)})
		return err
	}
	for _, k := range []string{"p/a", "p/d/x", "p/d/y", "q"} {
		if err := put(k, k, int64(len(k))); err != nil {
			t.Fatal(err)
		}
	}
	if err := put("short", "abc", 4); err == nil {
		t.Error("a body shorter than its ContentLength was stored")
	}
	f.Fail = func(_ context.Context, key string, call int) error {
		if call == 2 {
			return errors.New("injected")
		}
		return nil
	}
	if err := put("q", "q2", 2); err == nil {
		t.Error("Fail's error did not fail the second call for q")
	}
	if got := f.Keys(); !reflect.DeepEqual(got, []string{"p/a", "p/d/x", "p/d/y", "q"}) {
		t.Errorf("keys %v", got)
	}
	out, err := f.GetObject(ctx, &s3.GetObjectInput{Key: aws.String("q")})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(out.Body); string(b) != "q" {
		t.Errorf("q holds %q, want the first put's body", b)
	}
	var nsk *types.NoSuchKey
	if _, err := f.GetObject(ctx, &s3.GetObjectInput{Key: aws.String("none")}); !errors.As(err, &nsk) {
		t.Errorf("missing key: %v, want NoSuchKey", err)
	}
	l, err := f.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Prefix: aws.String("p/"), Delimiter: aws.String("/")})
	if err != nil || len(l.Contents) != 1 || aws.ToString(l.Contents[0].Key) != "p/a" ||
		len(l.CommonPrefixes) != 1 || aws.ToString(l.CommonPrefixes[0].Prefix) != "p/d/" {
		t.Errorf("listing p/ by /: %+v %+v, %v", l.Contents, l.CommonPrefixes, err)
	}
	if in, ok := f.Input("p/a"); !ok || aws.ToString(in.Bucket) != "b" || in.Body != nil {
		t.Errorf("input of p/a: %+v", in)
	}
}
