package logssink

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/logfan/logfan/shared/config"
)

// TestFastPutMatchesSDK sends the same PutLogEvents through the SDK's own
// serializer and through fastPut, and requires byte-identical bodies and
// identical X-Amz-Target and Content-Type headers.
func TestFastPutMatchesSDK(t *testing.T) {
	messages := []string{
		"plain",
		`quote " backslash \ slash / and <html> & ampersand`,
		"tab\there\nnewline\rreturn\x00nul\x01\x1f\x7f del",
		"ünïcödé € 😀 and U+FFFD \uFFFD",
		"line\u2028separator\u2029paragraph",
		"invalid \xff\xfe bytes \xe2\x82 cut \xed\xa0\x80 surrogate",
		strings.Repeat("long ", 5000),
		"",
	}
	in := &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/logfan/1/g#x"), LogStreamName: aws.String("s \" ü")}
	for i, m := range messages {
		in.LogEvents = append(in.LogEvents, types.InputLogEvent{Message: aws.String(m), Timestamp: aws.Int64(int64(1700000000000 + i))})
	}
	in.LogEvents = append(in.LogEvents, types.InputLogEvent{Message: aws.String("negative"), Timestamp: aws.Int64(-5)})

	capture := func(opts ...func(*cloudwatchlogs.Options)) ([]byte, http.Header) {
		var body []byte
		var hdr http.Header
		rt := &okTransport{keep: func(b []byte) { body = b }}
		c := fakeClient(roundTripFunc(func(r *http.Request) (*http.Response, error) {
			hdr = r.Header.Clone()
			return rt.RoundTrip(r)
		}))
		if _, err := c.PutLogEvents(context.Background(), in, opts...); err != nil {
			t.Fatal(err)
		}
		return body, hdr
	}
	sdkBody, sdkHdr := capture()
	ourBody, ourHdr := capture(fastPut)
	if !bytes.Equal(sdkBody, ourBody) {
		i := 0
		for i < len(sdkBody) && i < len(ourBody) && sdkBody[i] == ourBody[i] {
			i++
		}
		lo := max(0, i-40)
		t.Fatalf("bodies differ at byte %d:\nsdk:  %q\nours: %q", i, sdkBody[lo:min(len(sdkBody), i+40)], ourBody[lo:min(len(ourBody), i+40)])
	}
	for _, h := range []string{"X-Amz-Target", "Content-Type"} {
		if sdkHdr.Get(h) != ourHdr.Get(h) || sdkHdr.Get(h) == "" {
			t.Errorf("%s: sdk %q, ours %q", h, sdkHdr.Get(h), ourHdr.Get(h))
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestSinkUsesFastPut checks the sink passes fastPut on every PutLogEvents
// (unless WithSDKSerializer), and that it really swaps the protocol.
func TestSinkUsesFastPut(t *testing.T) {
	c := fakeClient(&okTransport{})
	for _, tc := range []struct {
		opts []Option
		fast bool
	}{{nil, true}, {[]Option{WithSDKSerializer()}, false}} {
		s := New(c, config.Logs{}, tc.opts...)
		o := c.Options()
		for _, fn := range s.putOpts {
			fn(&o)
		}
		if _, fast := o.Protocol.(fastPutProtocol); fast != tc.fast {
			t.Errorf("options %v: protocol %T, want fast=%v", tc.opts, o.Protocol, tc.fast)
		}
	}
}

// TestAppendPutLogEventsWordPath puts every special byte at every position
// of short strings, so jsonstr's 8-byte word test meets it at each offset,
// and requires the same body as the SDK's serializer.
func TestAppendPutLogEventsWordPath(t *testing.T) {
	specials := []string{"\"", "\\", "\x00", "\x1f", "\x7f", "\n", "\t", "é", "😀", "\xff", "\xe2\x82", "\u2028", " ", "~", "\x80"}
	in := &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")}
	for _, sp := range specials {
		for n := 0; n < 20; n++ {
			for pos := 0; pos <= n; pos++ {
				m := strings.Repeat("a", pos) + sp + strings.Repeat("b", n-pos)
				in.LogEvents = append(in.LogEvents, types.InputLogEvent{Message: aws.String(m), Timestamp: aws.Int64(1)})
			}
		}
	}
	var sdkBody []byte
	if _, err := fakeClient(&okTransport{keep: func(b []byte) { sdkBody = b }}).PutLogEvents(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	ours, err := appendPutLogEvents(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sdkBody, ours) {
		i := 0
		for i < len(sdkBody) && i < len(ours) && sdkBody[i] == ours[i] {
			i++
		}
		t.Fatalf("bodies differ at byte %d: sdk %q, ours %q", i, sdkBody[max(0, i-30):min(len(sdkBody), i+30)], ours[max(0, i-30):min(len(ours), i+30)])
	}
}

// FuzzAppendPutLogEventsMatchesSDK requires appendPutLogEvents to write the
// SDK's own body for any message (and its suffixes, so the bytes meet the
// 8-byte word test at every offset): jsonstr.SDK must stay the SDK's escaping,
// not merely the copy it replaced.
func FuzzAppendPutLogEventsMatchesSDK(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"\\\x00\x1f\x7f\n\t", "\u2028\u2029", "ü€😀\uFFFD", "\xff\xe2\x82\xed\xa0\x80\xc0\x80",
		"0123456\xe2\x80\xa8", `payload={"user":"u-1","note":"tab\there"}`} {
		f.Add(s)
	}
	var sdkBody []byte
	c := fakeClient(&okTransport{keep: func(b []byte) { sdkBody = b }})
	f.Fuzz(func(t *testing.T, s string) {
		in := &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g" + s[:min(len(s), 3)]), LogStreamName: aws.String(s)}
		for k := range min(len(s)+1, 9) {
			in.LogEvents = append(in.LogEvents, types.InputLogEvent{Message: aws.String(s[k:]), Timestamp: aws.Int64(int64(k))})
		}
		sdkBody = nil
		if _, err := c.PutLogEvents(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		ours, err := appendPutLogEvents(nil, in)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sdkBody, ours) {
			t.Fatalf("message %q:\nsdk:  %q\nours: %q", s, sdkBody, ours)
		}
	})
}
