// Package eventgen generates CloudWatch Logs subscription messages and the
// Lambda events that carry them, deterministically from a seed, for sample
// events, tests, benchmarks and the demo. The wire formats are written by
// the encoders beside their decoders: subscription.Encode for payloads,
// invocation.KinesisEvent and invocation.AWSLogsEvent for Lambda events
// (invocation.NewKinesisEvent builds a sample one around payloads).
package eventgen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/logfan/logfan/shared/subscription"
)

// Kinds of generated log line.
const (
	KindApp        = "app"        // application lines with a JSON tail and escapes
	KindCloudTrail = "cloudtrail" // CloudTrail records, JSON in the message
	KindVPCFlow    = "vpcflow"    // VPC flow log lines
	KindRandom     = "random"     // poorly compressible random tokens
)

// Source describes where generated events claim to come from.
type Source struct {
	Owner     string
	LogGroup  string
	LogStream string
	// Kind selects the shape of the messages (KindApp by default).
	Kind string
	// Filter is the subscription filter name (default "logfan").
	Filter string
}

// Generator makes deterministic log events: the same seed gives the same output.
type Generator struct {
	rng *rand.Rand
	seq uint64
	// Lines, when set for a kind, are used as message templates instead of the built-in ones.
	Lines map[string][]string
}

// New returns a Generator seeded with seed.
func New(seed uint64) *Generator {
	return &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), Lines: map[string][]string{}}
}

// Message returns a DATA_MESSAGE of n events from src, timestamps starting at
// start and step apart, messages of roughly size bytes (0: the kind's natural size).
func (g *Generator) Message(src Source, n int, start time.Time, step time.Duration, size int) *subscription.Message {
	filter := src.Filter
	if filter == "" {
		filter = "logfan"
	}
	m := &subscription.Message{
		MessageType:         subscription.DataMessage,
		Owner:               src.Owner,
		LogGroup:            src.LogGroup,
		LogStream:           src.LogStream,
		SubscriptionFilters: []string{filter},
		LogEvents:           make([]subscription.LogEvent, n),
	}
	for i := range m.LogEvents {
		ts := start.Add(time.Duration(i) * step).UnixMilli()
		m.LogEvents[i] = subscription.LogEvent{ID: g.eventID(ts), Timestamp: ts, Message: g.line(src, ts, size)}
	}
	return m
}

// eventID makes a 56-digit ID shaped like CloudWatch Logs' (timestamp-led, unique).
func (g *Generator) eventID(ts int64) string {
	g.seq++
	return fmt.Sprintf("%020d%018d%018d", ts, g.seq, g.rng.Uint64()%1e18)
}

// ControlMessage returns the health-check message CloudWatch Logs sends when a subscription is created.
func ControlMessage(destination string) *subscription.Message {
	return &subscription.Message{
		MessageType:         subscription.ControlMessage,
		Owner:               "CloudwatchLogs",
		LogGroup:            "",
		LogStream:           "",
		SubscriptionFilters: []string{},
		LogEvents: []subscription.LogEvent{{
			ID: "", Timestamp: 1700000000000,
			Message: "CWL CONTROL MESSAGE: Checking health of destination " + destination,
		}},
	}
}

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (g *Generator) token(n int) string {
	var b strings.Builder
	b.Grow(n)
	for i := 0; i < n; i++ {
		b.WriteByte(alphabet[g.rng.IntN(len(alphabet))])
	}
	return b.String()
}

func (g *Generator) pick(s []string) string { return s[g.rng.IntN(len(s))] }

func (g *Generator) line(src Source, ts int64, size int) string {
	kind := src.Kind
	if kind == "" {
		kind = KindApp
	}
	var s string
	if tmpl := g.Lines[kind]; len(tmpl) > 0 {
		s = g.fill(g.pick(tmpl), src, ts)
	} else {
		switch kind {
		case KindCloudTrail:
			s = g.cloudTrail(src, ts)
		case KindVPCFlow:
			s = g.vpcFlow(src, ts)
		case KindRandom:
			n := size
			if n <= 0 {
				n = 200
			}
			return g.token(n)
		default:
			s = g.app(ts)
		}
	}
	if size > 0 {
		for len(s) < size {
			s += " " + g.token(min(32, size-len(s)))
		}
	}
	return s
}

// fill replaces {ts}, {iso}, {owner}, {rand}, {ip}, {n} in a template line
// (each placeholder takes one value per line); {rand2}, {ip2} and {n2} give a
// second independent value, e.g. a flow's destination address.
func (g *Generator) fill(t string, src Source, ts int64) string {
	pairs := []string{
		"{ts}", strconv.FormatInt(ts/1000, 10),
		"{iso}", time.UnixMilli(ts).UTC().Format(time.RFC3339Nano),
		"{owner}", src.Owner,
		"{rand}", g.token(12),
		"{ip}", g.ip(),
		"{n}", strconv.Itoa(g.rng.IntN(100000)),
	}
	// Draw second values only when used, so templates without them see the same random stream as before.
	if strings.Contains(t, "{rand2}") {
		pairs = append(pairs, "{rand2}", g.token(12))
	}
	if strings.Contains(t, "{ip2}") {
		pairs = append(pairs, "{ip2}", g.ip())
	}
	if strings.Contains(t, "{n2}") {
		pairs = append(pairs, "{n2}", strconv.Itoa(g.rng.IntN(100000)))
	}
	return strings.NewReplacer(pairs...).Replace(t)
}

func (g *Generator) ip() string {
	return fmt.Sprintf("10.%d.%d.%d", g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254))
}

var (
	levels   = []string{"INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"}
	routes   = []string{"/api/orders", "/api/users/{id}", "/healthz", "/api/cart?item=42&qty=3", "/login"}
	actions  = []string{"AssumeRole", "GetObject", "PutObject", "DescribeInstances", "ConsoleLogin", "CreateLogStream"}
	services = []string{"sts.amazonaws.com", "s3.amazonaws.com", "ec2.amazonaws.com", "signin.amazonaws.com", "logs.amazonaws.com"}
)

func (g *Generator) app(ts int64) string {
	return fmt.Sprintf(`%s %s [req-%s] handled %s status=%d dur=%dms payload={"user":"u-%d","note":"tab\there \"quoted\" ü"}`,
		time.UnixMilli(ts).UTC().Format(time.RFC3339Nano), g.pick(levels), g.token(8), g.pick(routes),
		[]int{200, 200, 200, 201, 404, 500}[g.rng.IntN(6)], g.rng.IntN(900), g.rng.IntN(10000))
}

func (g *Generator) cloudTrail(src Source, ts int64) string {
	return fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROA%s:session","arn":"arn:aws:sts::%s:assumed-role/app/session","accountId":"%s"},"eventTime":"%s","eventSource":"%s","eventName":"%s","awsRegion":"us-east-1","sourceIPAddress":"%s","userAgent":"aws-sdk-go-v2/1.30","requestID":"%s","eventID":"%s","readOnly":%t,"eventType":"AwsApiCall","recipientAccountId":"%s"}`,
		strings.ToUpper(g.token(12)), src.Owner, src.Owner, time.UnixMilli(ts).UTC().Format(time.RFC3339),
		g.pick(services), g.pick(actions), g.ip(), g.token(20), g.token(24), g.rng.IntN(2) == 0, src.Owner)
}

func (g *Generator) vpcFlow(src Source, ts int64) string {
	return fmt.Sprintf("2 %s eni-%s %s %s %d %d 6 %d %d %d %d %s OK",
		src.Owner, strings.ToLower(g.token(17)), g.ip(), g.ip(), 1024+g.rng.IntN(60000), []int{443, 80, 22, 5432}[g.rng.IntN(4)],
		1+g.rng.IntN(50), 40+g.rng.IntN(90000), ts/1000, ts/1000+60, []string{"ACCEPT", "ACCEPT", "REJECT"}[g.rng.IntN(3)])
}

// MustPayload is subscription.Encode for messages built in code, where
// encoding cannot fail (generated events carry no extractedFields).
func MustPayload(m *subscription.Message) []byte {
	p, err := subscription.Encode(m)
	if err != nil {
		panic(err)
	}
	return p
}

// MessageLines returns a DATA_MESSAGE with one event per line, in order, from
// src: each line is a template whose placeholders ({ts} {iso} {owner} {rand}
// {ip} {n}) are filled, timestamps starting at start and step apart. Sample
// events use it when the exact messages matter more than variety.
func (g *Generator) MessageLines(src Source, lines []string, start time.Time, step time.Duration) *subscription.Message {
	m := g.Message(src, 0, start, step, 0)
	m.LogEvents = make([]subscription.LogEvent, len(lines))
	for i, l := range lines {
		ts := start.Add(time.Duration(i) * step).UnixMilli()
		m.LogEvents[i] = subscription.LogEvent{ID: g.eventID(ts), Timestamp: ts, Message: g.fill(l, src, ts)}
	}
	return m
}
