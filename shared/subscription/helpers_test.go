package subscription

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/valyala/fastjson"
)

// gz gzips b with the standard library, as CloudWatch Logs' payloads are
// ordinary single-member gzip.
func gz(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := stdgzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func fixtureNames(tb testing.TB) []string {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(names) == 0 {
		tb.Fatalf("no fixtures: %v", err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

// flavour is the kind of log message a generated payload carries.
type flavour string

const (
	// realistic: application lines, access logs and JSON-in-message (lots
	// of \" escapes), some non-ASCII; compresses about as well as real logs.
	realistic flavour = "realistic"
	// random: random tokens, poorly compressible, the worst case for gunzip.
	random flavour = "random"
	// systemFields: realistic messages, each event with the extractedFields
	// a subscription filter's emitSystemFields adds (@aws.account, @aws.region).
	systemFields flavour = "systemfields"
	// patternFields: realistic messages, each event with extractedFields
	// that differ from event to event: what a filter pattern extracts,
	// plus the system fields.
	patternFields flavour = "patternfields"
)

// genSystemFields is the extractedFields of systemFields payloads.
const genSystemFields = `{"@aws.account":"222222222222","@aws.region":"eu-west-1"}`

type genEvent struct {
	ID              string          `json:"id"`
	Timestamp       int64           `json:"timestamp"`
	Message         string          `json:"message"`
	ExtractedFields json.RawMessage `json:"extractedFields,omitempty"`
}

type genMessage struct {
	MessageType         string     `json:"messageType"`
	Owner               string     `json:"owner"`
	LogGroup            string     `json:"logGroup"`
	LogStream           string     `json:"logStream"`
	SubscriptionFilters []string   `json:"subscriptionFilters"`
	LogEvents           []genEvent `json:"logEvents"`
}

// genPayload returns the JSON of a DATA_MESSAGE with n events whose messages
// are about 200 bytes, encoded the way CloudWatch Logs does (compact, no
// HTML escaping).
func genPayload(seed uint64, n int, fl flavour) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x10f4))
	m := genMessage{
		MessageType: DataMessage, Owner: "111111111111",
		LogGroup: "/ecs/checkout-service", LogStream: fmt.Sprintf("app/checkout/%016x", rng.Uint64()),
		SubscriptionFilters: []string{"logfan-destination"},
		LogEvents:           make([]genEvent, n),
	}
	idBase := "3" + digits(rng, 40)
	for i := range m.LogEvents {
		m.LogEvents[i] = genEvent{
			ID:        idBase + fmt.Sprintf("%015d", i),
			Timestamp: 1714564800000 + int64(i)*7,
			Message:   genMessageText(rng, fl),
		}
		switch fl {
		case systemFields:
			m.LogEvents[i].ExtractedFields = json.RawMessage(genSystemFields)
		case patternFields:
			m.LogEvents[i].ExtractedFields = json.RawMessage(fmt.Sprintf(`{"status":"%d","@aws.account":"222222222222","latency":"%d.%d","@aws.region":"eu-west-1","path":"/api/v1/orders/%d"}`,
				[]int{200, 200, 201, 404, 500}[rng.IntN(5)], rng.IntN(500), rng.IntN(10), rng.IntN(100000)))
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func digits(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + rng.IntN(10))
	}
	return string(b)
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func genMessageText(rng *rand.Rand, fl flavour) string {
	if fl == random {
		var sb strings.Builder
		for sb.Len() < 200 {
			for range 4 + rng.IntN(20) {
				sb.WriteByte(tokenAlphabet[rng.IntN(len(tokenAlphabet))])
			}
			sb.WriteByte(' ')
		}
		return sb.String()
	}
	paths := []string{"/api/v1/users", "/api/v1/orders", "/v2/checkout", "/healthz", "/static/app.js"}
	switch rng.IntN(4) {
	case 0:
		return fmt.Sprintf(`10.0.%d.%d - - [01/May/2024:12:%02d:%02d +0000] "GET %s/%d?page=%d HTTP/1.1" %d %d "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"`,
			rng.IntN(256), rng.IntN(256), rng.IntN(60), rng.IntN(60), paths[rng.IntN(len(paths))], rng.IntN(100000), rng.IntN(20),
			[]int{200, 200, 200, 201, 404, 500}[rng.IntN(6)], rng.IntN(50000))
	case 1:
		return fmt.Sprintf(`{"level":"%s","time":"2024-05-01T12:%02d:%02d.%03dZ","msg":"request completed","method":"POST","path":"%s","status":%d,"latency_ms":%.1f,"trace_id":"%016x%016x","user":"user-%d"}`,
			[]string{"info", "info", "warn", "error"}[rng.IntN(4)], rng.IntN(60), rng.IntN(60), rng.IntN(1000),
			paths[rng.IntN(len(paths))], []int{200, 201, 400, 502}[rng.IntN(4)], rng.Float64()*300, rng.Uint64(), rng.Uint64(), rng.IntN(1e6))
	case 2:
		return fmt.Sprintf("2024-05-01T12:%02d:%02d.%03dZ ERROR [req-%08x] java.lang.IllegalStateException: order %d not found\n\tat com.example.checkout.OrderService.load(OrderService.java:%d)\n\tat com.example.checkout.Api.handle(Api.java:%d)",
			rng.IntN(60), rng.IntN(60), rng.IntN(1000), rng.Uint32(), rng.IntN(1e7), rng.IntN(500), rng.IntN(500))
	default:
		return fmt.Sprintf("2024-05-01T12:%02d:%02d.%03dZ \x1b[32mINFO\x1b[0m Benutzer %d hat die Bestellung geöffnet — Café «Zürich» ✓ in %d ms, Warenkorb: %d Artikel, Gesamtsumme %d,%02d €",
			rng.IntN(60), rng.IntN(60), rng.IntN(1000), rng.IntN(1e6), rng.IntN(900), rng.IntN(30), rng.IntN(1000), rng.IntN(100))
	}
}

// baselineDecode is the plain-stdlib way: a new compress/gzip reader per
// record and encoding/json into aws-lambda-go's CloudwatchLogsData (what
// CloudwatchLogsRawData.Parse does after base64).
func baselineDecode(data []byte) (*events.CloudwatchLogsData, error) {
	zr, err := stdgzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var d events.CloudwatchLogsData
	err = json.NewDecoder(zr).Decode(&d)
	if cerr := zr.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// fastjsonDecoder is the other tuned design we measured against: the same
// reused klauspost reader, then valyala/fastjson (a tree, one string per
// field). Kept as a reference implementation for the equivalence test and
// the benchmarks; the hand-rolled scanner replaced it because it is faster,
// allocates O(1) per record, validates escapes (fastjson's best-effort
// unescaping keeps invalid ones and drops the character after a lone high
// surrogate) and reports where a payload is wrong.
type fastjsonDecoder struct {
	zr  *kgzip.Reader
	src bytes.Reader
	buf bytes.Buffer
	p   fastjson.Parser
}

func (f *fastjsonDecoder) decode(data []byte) (*Message, error) {
	f.src.Reset(data)
	if f.zr == nil {
		zr, err := kgzip.NewReader(&f.src)
		if err != nil {
			return nil, err
		}
		f.zr = zr
	} else if err := f.zr.Reset(&f.src); err != nil {
		return nil, err
	}
	f.buf.Reset()
	if _, err := f.buf.ReadFrom(f.zr); err != nil {
		return nil, err
	}
	v, err := f.p.ParseBytes(f.buf.Bytes())
	if err != nil {
		return nil, err
	}
	m := &Message{
		MessageType: string(v.GetStringBytes("messageType")),
		Owner:       string(v.GetStringBytes("owner")),
		LogGroup:    string(v.GetStringBytes("logGroup")),
		LogStream:   string(v.GetStringBytes("logStream")),
		PolicyLevel: string(v.GetStringBytes("policyLevel")),
	}
	for _, s := range v.GetArray("subscriptionFilters") {
		m.SubscriptionFilters = append(m.SubscriptionFilters, string(s.GetStringBytes()))
	}
	evs := v.GetArray("logEvents")
	m.LogEvents = make([]LogEvent, len(evs))
	for i, e := range evs {
		m.LogEvents[i] = LogEvent{
			ID:        string(e.GetStringBytes("id")),
			Timestamp: e.GetInt64("timestamp"),
			Message:   string(e.GetStringBytes("message")),
		}
	}
	return m, nil
}

// sameMessage reports how a and b differ, or "" if they are equal.
func sameMessage(a, b *Message) string {
	switch {
	case a.MessageType != b.MessageType:
		return fmt.Sprintf("messageType %q != %q", a.MessageType, b.MessageType)
	case a.Owner != b.Owner || a.LogGroup != b.LogGroup || a.LogStream != b.LogStream:
		return fmt.Sprintf("owner/group/stream %q/%q/%q != %q/%q/%q", a.Owner, a.LogGroup, a.LogStream, b.Owner, b.LogGroup, b.LogStream)
	case a.PolicyLevel != b.PolicyLevel:
		return fmt.Sprintf("policyLevel %q != %q", a.PolicyLevel, b.PolicyLevel)
	case a.Account != b.Account || a.Region != b.Region || a.HubAccount != b.HubAccount:
		return fmt.Sprintf("account/region/hubAccount %q/%q/%q != %q/%q/%q", a.Account, a.Region, a.HubAccount, b.Account, b.Region, b.HubAccount)
	case fmt.Sprint(a.EventSources) != fmt.Sprint(b.EventSources) || (a.EventSources == nil) != (b.EventSources == nil):
		return fmt.Sprintf("eventSources %v != %v", a.EventSources, b.EventSources)
	case fmt.Sprint(a.SubscriptionFilters) != fmt.Sprint(b.SubscriptionFilters):
		return fmt.Sprintf("subscriptionFilters %q != %q", a.SubscriptionFilters, b.SubscriptionFilters)
	case len(a.LogEvents) != len(b.LogEvents):
		return fmt.Sprintf("%d events != %d", len(a.LogEvents), len(b.LogEvents))
	}
	for i := range a.LogEvents {
		x, y := &a.LogEvents[i], &b.LogEvents[i]
		if x.ID != y.ID || x.Timestamp != y.Timestamp || x.Message != y.Message ||
			!bytes.Equal(x.ExtractedFields, y.ExtractedFields) || (x.ExtractedFields == nil) != (y.ExtractedFields == nil) {
			return fmt.Sprintf("event %d: %#v != %#v", i, *x, *y)
		}
	}
	return ""
}

// cloneMessage deep-copies m, bytes included.
func cloneMessage(m *Message) *Message {
	c := *m
	c.SubscriptionFilters = append([]string(nil), m.SubscriptionFilters...)
	c.LogEvents = append([]LogEvent(nil), m.LogEvents...)
	if m.EventSources != nil {
		c.EventSources = append([]Source(nil), m.EventSources...)
	}
	for i := range c.LogEvents {
		if raw := c.LogEvents[i].ExtractedFields; raw != nil {
			c.LogEvents[i].ExtractedFields = append(json.RawMessage{}, raw...)
		}
	}
	return &c
}
