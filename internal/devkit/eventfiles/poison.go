package eventfiles

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/logfan/logfan/shared/subscription"
)

// Poison kinds: records a consumer must quarantine with a reason, never
// deliver and never retry forever (a retried poison record blocks its shard).
const (
	// PoisonNotGzip is the subscription JSON without compression.
	PoisonNotGzip = "not-gzip"
	// PoisonTruncatedGzip is a real payload cut in half.
	PoisonTruncatedGzip = "truncated-gzip"
	// PoisonCorruptGzip is a real payload whose gzip trailer CRC-32 is wrong.
	PoisonCorruptGzip = "corrupt-gzip"
	// PoisonNotJSON is gzip of plain-text log lines.
	PoisonNotJSON = "not-json"
	// PoisonWrongShape is gzip of JSON whose logEvents is an object, not an array.
	PoisonWrongShape = "wrong-shape"
	// PoisonWrongFieldType is gzip of JSON whose event timestamps are strings.
	PoisonWrongFieldType = "wrong-field-type"
	// PoisonUnknownType is a well-formed payload with an unknown messageType.
	PoisonUnknownType = "unknown-type"
	// PoisonGzipBomb is a small record that inflates past the decoder's cap.
	PoisonGzipBomb = "gzip-bomb"
)

// UnknownMessageType is the messageType of PoisonUnknownType records.
const UnknownMessageType = "DATA_MESSAGE_V2"

type poisonKind struct {
	// errName names the subscription sentinel a decoder must return.
	errName string
	// reason says what is wrong, for the expectations and the README.
	reason string
	build  func(m *subscription.Message, r RecordSpec) (data []byte, inflated int64, err error)
}

var poisonKinds = map[string]poisonKind{
	PoisonNotGzip: {"ErrNotGzip", "uncompressed subscription JSON: no gzip header (1f 8b)",
		func(m *subscription.Message, _ RecordSpec) ([]byte, int64, error) {
			j, err := subscription.AppendJSON(nil, m)
			return j, int64(len(j)), err
		}},
	PoisonTruncatedGzip: {"ErrTruncated", "a real payload cut in half: the gzip stream ends inside the deflate data",
		func(m *subscription.Message, _ RecordSpec) ([]byte, int64, error) {
			p, err := subscription.Encode(m)
			return p[:len(p)/2], 0, err
		}},
	PoisonCorruptGzip: {"ErrCorruptGzip", "a real payload whose gzip trailer CRC-32 is wrong; the JSON inside is intact, so only a decoder that reads to the end of the gzip stream notices",
		func(m *subscription.Message, _ RecordSpec) ([]byte, int64, error) {
			p, err := subscription.Encode(m)
			if err != nil {
				return nil, 0, err
			}
			j, _ := subscription.AppendJSON(nil, m)
			p[len(p)-8] ^= 0xff // first byte of the little-endian CRC-32 (RFC 1952 section 2.2)
			return p, int64(len(j)), nil
		}},
	PoisonNotJSON: {"ErrNotJSON", "gzip of plain-text log lines, not JSON",
		func(m *subscription.Message, _ RecordSpec) ([]byte, int64, error) {
			var b strings.Builder
			for _, e := range m.LogEvents {
				b.WriteString(e.Message)
				b.WriteByte('\n')
			}
			return subscription.Compress([]byte(b.String())), int64(b.Len()), nil
		}},
	PoisonWrongShape: {"ErrShape", "gzip of JSON whose logEvents is an object keyed by event ID instead of an array",
		func(m *subscription.Message, _ RecordSpec) ([]byte, int64, error) {
			events := map[string]wrongEvent{}
			for _, e := range m.LogEvents {
				events[e.ID] = wrongEvent{ID: e.ID, Timestamp: e.Timestamp, Message: e.Message}
			}
			return gzipJSON(wrongShape{m.MessageType, m.Owner, m.LogGroup, m.LogStream, m.SubscriptionFilters, events})
		}},
	PoisonWrongFieldType: {"ErrShape", "gzip of JSON whose log event timestamps are RFC 3339 strings instead of epoch milliseconds",
		func(m *subscription.Message, _ RecordSpec) ([]byte, int64, error) {
			events := make([]wrongEvent, len(m.LogEvents))
			for i, e := range m.LogEvents {
				events[i] = wrongEvent{ID: e.ID, Timestamp: isoMillis(e.Timestamp), Message: e.Message}
			}
			return gzipJSON(wrongShape{m.MessageType, m.Owner, m.LogGroup, m.LogStream, m.SubscriptionFilters, events})
		}},
	PoisonUnknownType: {"ErrUnknownType", "a well-formed payload whose messageType is " + UnknownMessageType,
		func(m *subscription.Message, _ RecordSpec) ([]byte, int64, error) {
			m.MessageType = UnknownMessageType
			j, err := subscription.AppendJSON(nil, m)
			return subscription.Compress(j), int64(len(j)), err
		}},
	PoisonGzipBomb: {"ErrTooLarge", "a well-formed payload with one event whose message inflates the record past the 64 MiB decompression cap (subscription.DefaultMaxDecompressed)",
		buildBomb},
}

// PoisonKinds lists the poison kinds a manifest record may use, sorted.
func PoisonKinds() []string {
	kinds := make([]string, 0, len(poisonKinds))
	for k := range poisonKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// sentinels maps the error names in the expectations to the subscription
// package's sentinel errors, so tests can check errors.Is(err, Sentinel(name)).
var sentinels = map[string]error{
	"ErrNotGzip":     subscription.ErrNotGzip,
	"ErrCorruptGzip": subscription.ErrCorruptGzip,
	"ErrTruncated":   subscription.ErrTruncated,
	"ErrTooLarge":    subscription.ErrTooLarge,
	"ErrNotJSON":     subscription.ErrNotJSON,
	"ErrShape":       subscription.ErrShape,
	"ErrUnknownType": subscription.ErrUnknownType,
}

// Sentinel returns the subscription sentinel error an expectations file names
// (e.g. "ErrTruncated" -> subscription.ErrTruncated), or nil if unknown.
func Sentinel(name string) error { return sentinels[name] }

// wrongShape and wrongEvent encode the two wrong-shape payloads with the
// field order CloudWatch Logs uses, so they differ from a real payload only
// where they are meant to.
type wrongShape struct {
	MessageType         string   `json:"messageType"`
	Owner               string   `json:"owner"`
	LogGroup            string   `json:"logGroup"`
	LogStream           string   `json:"logStream"`
	SubscriptionFilters []string `json:"subscriptionFilters"`
	LogEvents           any      `json:"logEvents"`
}

type wrongEvent struct {
	ID        string `json:"id"`
	Timestamp any    `json:"timestamp"`
	Message   string `json:"message"`
}

func gzipJSON(v any) ([]byte, int64, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, 0, fmt.Errorf("encode poison payload: %w", err)
	}
	j := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return subscription.Compress(j), int64(len(j)), nil
}

// defaultBomb is a gzip-bomb record's default decompressed size: 1 MiB over the default cap.
const defaultBomb = subscription.DefaultMaxDecompressed + 1<<20

// buildBomb streams the payload through the compressor so that generating
// it never holds the inflated bytes in memory.
func buildBomb(m *subscription.Message, r RecordSpec) ([]byte, int64, error) {
	size := r.Inflate
	if size == 0 {
		size = defaultBomb
	}
	e := subscription.LogEvent{ID: "0", Timestamp: 0}
	if len(m.LogEvents) > 0 {
		e = m.LogEvents[0]
	}
	m.LogEvents = []subscription.LogEvent{{ID: e.ID, Timestamp: e.Timestamp, Message: "\x00"}}
	j, err := subscription.AppendJSON(nil, m)
	if err != nil {
		return nil, 0, err
	}
	// Split the JSON around the placeholder message and put the filler there.
	head, tail, ok := bytes.Cut(j, []byte(`"message":"\u0000"`))
	if !ok {
		return nil, 0, fmt.Errorf("gzip bomb: placeholder message not found in %s", j)
	}
	head = append(head, `"message":"`...)
	tail = append([]byte(`"`), tail...)
	fill := size - int64(len(head)+len(tail))
	if fill < 0 {
		return nil, 0, fmt.Errorf("gzip bomb: inflate %d is smaller than the message envelope (%d bytes)", size, len(head)+len(tail))
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	chunk := bytes.Repeat([]byte("A"), 1<<20)
	_, _ = zw.Write(head)
	for left := fill; left > 0; left -= int64(len(chunk)) {
		_, _ = zw.Write(chunk[:min(int64(len(chunk)), left)])
	}
	_, _ = zw.Write(tail)
	if err := zw.Close(); err != nil {
		return nil, 0, fmt.Errorf("gzip bomb: %w", err)
	}
	return buf.Bytes(), size, nil
}
