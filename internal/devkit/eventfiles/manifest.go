// Package eventfiles generates logfan's sample Lambda events (events/*.json)
// from plain inputs (events/src: a JSON manifest and message-template files),
// deterministically, together with a machine-readable expectations file that
// tests count against and a README that documents what each file holds.
//
// It builds on internal/devkit/eventgen for the subscription payloads and the Lambda
// event shapes, and adds poison records, an account-level-policy variant and
// a batch filled up to Lambda's 6 MB invocation limit.
package eventfiles

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/invocation"
)

// ManifestName is the manifest's file name inside the input directory.
const ManifestName = "manifest.json"

// Event shapes a file can hold.
const (
	// EventKinesis is the Lambda Kinesis event ({"Records":[...]}).
	EventKinesis = "kinesis"
	// EventAWSLogs is the direct-subscription event ({"awslogs":{"data":"..."}}).
	EventAWSLogs = "awslogs"
)

// Record types besides the poison kinds (see PoisonKinds).
const (
	// TypeData is a DATA_MESSAGE payload, the default.
	TypeData = "data"
	// TypeControl is the CONTROL_MESSAGE health check CloudWatch Logs sends when a subscription is created.
	TypeControl = "control"
)

// LambdaPayloadLimit is Lambda's invocation payload limit in bytes (6 MB);
// an event source mapping never builds a batch whose event JSON exceeds it.
const LambdaPayloadLimit = 6 << 20

// Manifest is the plain input describing every sample event file.
type Manifest struct {
	// Seed makes generation deterministic; each file derives its own seed from
	// it and its name, so editing one file's records leaves the others unchanged.
	Seed uint64 `json:"seed"`
	// Start is the timestamp (RFC 3339) of every file's first log event.
	Start string `json:"start"`
	// Step is the time between consecutive log events (a Go duration, e.g. "250ms").
	Step string `json:"step"`
	// StreamARN is the Kinesis stream the events claim to come from.
	StreamARN string `json:"streamARN"`
	// Templates maps an eventgen kind (app, cloudtrail, vpcflow) to a file of
	// message templates, one per line, replacing eventgen's built-in lines.
	Templates map[string]string `json:"templates"`
	// Readme is a text/template file rendered to README.md with the expectations.
	Readme string `json:"readme"`
	// Files are the event files to write.
	Files []FileSpec `json:"files"`

	dir      string
	start    time.Time
	step     time.Duration
	lines    map[string][]string // template file name -> lines
	readme   string
	fileSeed map[string]uint64
}

// FileSpec describes one event file.
type FileSpec struct {
	// Name is the output path relative to the output directory, with forward
	// slashes; files under a "generated/" directory are not committed.
	Name string `json:"name"`
	// Event is EventKinesis (default) or EventAWSLogs.
	Event string `json:"event"`
	// Description says what the file is for, in one sentence.
	Description string `json:"description"`
	// Shard is the Kinesis shard ID (default shardId-000000000000).
	Shard string `json:"shard"`
	// FirstSequence is the first record's sequence number (default eventgen's).
	FirstSequence string `json:"firstSequence"`
	// Compact writes the event without indentation, as Lambda sends it.
	Compact bool `json:"compact"`
	// FillTo, when set, repeats Records in turn for as many records as fit
	// in FillTo bytes of event JSON (skipping a record that does not fit, until
	// none of them does); it requires Compact.
	FillTo int `json:"fillTo"`
	// Records are the Kinesis records in order (exactly one for EventAWSLogs).
	Records []RecordSpec `json:"records"`
}

// RecordSpec describes one record (or Repeat identical-looking records).
type RecordSpec struct {
	// Type is TypeData (default), TypeControl, or one of the poison kinds.
	Type string `json:"type"`
	// Owner is the sender's account ID.
	Owner string `json:"owner"`
	// LogGroup and LogStream name the source.
	LogGroup  string `json:"logGroup"`
	LogStream string `json:"logStream"`
	// Kind is the eventgen message kind (app, cloudtrail, vpcflow, random).
	Kind string `json:"kind"`
	// Filter is the subscription filter (or account policy) name.
	Filter string `json:"filter"`
	// Events is the number of log events.
	Events int `json:"events"`
	// Size pads each message to about this many bytes (0: natural size).
	Size int `json:"size"`
	// Template names a file of message templates for this record only.
	Template string `json:"template"`
	// Lines are literal message templates used in order, one event each; they
	// override Events and Template.
	Lines []string `json:"lines"`
	// PolicyLevel is set on payloads sent by an account-level subscription policy.
	PolicyLevel string `json:"policyLevel"`
	// ExtractedFields is put on every log event as its extractedFields object.
	ExtractedFields map[string]string `json:"extractedFields"`
	// Destination completes the control message text (default "Kinesis stream.").
	Destination string `json:"destination"`
	// Inflate is the decompressed size of a gzip-bomb record (default 64 MiB + 1 MiB).
	Inflate int64 `json:"inflate"`
	// Repeat emits the record this many times (default 1), each with fresh events.
	Repeat int `json:"repeat"`
	// Note explains the record; it is copied to the expectations.
	Note string `json:"note"`
}

// LoadManifest reads dir/manifest.json and the template files it names, and
// validates everything, reporting all problems in one error.
func LoadManifest(dir string) (*Manifest, error) {
	raw, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	return ParseManifest(dir, raw)
}

// ParseManifest parses manifest JSON whose template files live in dir.
func ParseManifest(dir string, raw []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // a misspelt key must not silently change nothing
	m := &Manifest{dir: dir}
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, ManifestName), err)
	}
	if err := m.load(); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", filepath.Join(dir, ManifestName), err)
	}
	return m, nil
}

func (m *Manifest) load() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	var err error
	if m.start, err = time.Parse(time.RFC3339, m.Start); err != nil {
		bad("start %q: want RFC 3339 (e.g. 2026-01-01T00:00:00Z)", m.Start)
	}
	if m.step, err = time.ParseDuration(m.Step); err != nil || m.step <= 0 {
		bad("step %q: want a positive Go duration (e.g. 250ms)", m.Step)
	}
	if m.StreamARN == "" {
		m.StreamARN = invocation.DefaultStreamARN
	} else if a, err := arn.Parse(m.StreamARN); err != nil || a.Service != "kinesis" || !strings.HasPrefix(a.Resource, "stream/") {
		bad("streamARN %q: want arn:aws:kinesis:REGION:ACCOUNT:stream/NAME", m.StreamARN)
	}

	m.lines = map[string][]string{}
	readLines := func(what, name string) {
		if _, ok := m.lines[name]; ok {
			return
		}
		if err := checkRel(name); err != nil {
			bad("%s: %v", what, err)
			return
		}
		l, err := readTemplateFile(filepath.Join(m.dir, filepath.FromSlash(name)))
		if err != nil {
			bad("%s: %v", what, err)
			return
		}
		m.lines[name] = l
	}
	for _, kind := range sortedKeys(m.Templates) {
		if !knownKind(kind) {
			bad("templates: unknown kind %q (want app, cloudtrail, vpcflow or random)", kind)
		}
		readLines("templates."+kind, m.Templates[kind])
	}
	if m.Readme != "" {
		if err := checkRel(m.Readme); err != nil {
			bad("readme: %v", err)
		} else if b, err := os.ReadFile(filepath.Join(m.dir, filepath.FromSlash(m.Readme))); err != nil {
			bad("readme: %v", err)
		} else {
			m.readme = string(b)
		}
	}

	if len(m.Files) == 0 {
		bad("no files")
	}
	names := map[string]bool{}
	for i := range m.Files {
		f := &m.Files[i]
		where := fmt.Sprintf("files[%d] (%s)", i, f.Name)
		if err := checkRel(f.Name); err != nil || !strings.HasSuffix(f.Name, ".json") || path.Base(f.Name) == ExpectationsName {
			bad("%s: name must be a relative path to a .json file other than %s", where, ExpectationsName)
		}
		if names[f.Name] {
			bad("%s: duplicate name", where)
		}
		names[f.Name] = true
		switch f.Event {
		case "":
			f.Event = EventKinesis
		case EventKinesis, EventAWSLogs:
		default:
			bad("%s: event %q: want kinesis or awslogs", where, f.Event)
		}
		if f.Event == EventAWSLogs && (len(f.Records) != 1 || f.Records[0].Repeat > 1 || f.FillTo > 0) {
			bad("%s: an awslogs event carries exactly one payload", where)
		}
		if len(f.Records) == 0 {
			bad("%s: no records", where)
		}
		if f.FillTo < 0 || f.FillTo > LambdaPayloadLimit {
			bad("%s: fillTo %d: want 1..%d (Lambda's invocation payload limit)", where, f.FillTo, LambdaPayloadLimit)
		}
		if f.FillTo > 0 && !f.Compact {
			bad("%s: fillTo needs compact: the limit applies to the compact JSON Lambda sends", where)
		}
		for j := range f.Records {
			r := &f.Records[j]
			rwhere := fmt.Sprintf("%s records[%d]", where, j)
			if r.Type == "" {
				r.Type = TypeData
			}
			if r.Kind != "" && !knownKind(r.Kind) {
				bad("%s: unknown kind %q", rwhere, r.Kind)
			}
			if r.Repeat < 0 || (r.Repeat > 1 && f.FillTo > 0) {
				bad("%s: repeat %d: want >= 0, and no repeat in a fillTo file (it repeats records itself)", rwhere, r.Repeat)
			}
			if r.Repeat == 0 {
				r.Repeat = 1
			}
			if r.Events < 0 || r.Size < 0 || r.Inflate < 0 {
				bad("%s: events, size and inflate must not be negative", rwhere)
			}
			switch {
			case r.Type == TypeControl:
			case r.Type == TypeData || poisonKinds[r.Type].build != nil:
				if r.Owner == "" || r.LogGroup == "" || r.LogStream == "" {
					bad("%s: owner, logGroup and logStream are required", rwhere)
				}
				if len(r.Lines) == 0 && r.Events == 0 && r.Type != PoisonGzipBomb {
					bad("%s: give events > 0 or lines", rwhere)
				}
			default:
				bad("%s: type %q: want data, control or a poison kind (%s)", rwhere, r.Type, strings.Join(PoisonKinds(), ", "))
			}
			if r.Inflate != 0 && r.Type != PoisonGzipBomb {
				bad("%s: inflate applies to %s records only", rwhere, PoisonGzipBomb)
			}
			if r.Type == PoisonGzipBomb && Committed(f.Name) {
				bad("%s: a %s record inflates past 64 MiB; keep it in a %s/ file, which is not committed", rwhere, PoisonGzipBomb, generatedDir)
			}
			if r.Template != "" {
				readLines(rwhere+" template", r.Template)
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	m.fileSeed = map[string]uint64{}
	for _, f := range m.Files {
		m.fileSeed[f.Name] = m.Seed ^ fnv64(f.Name)
	}
	return nil
}

// generatedDir is the output subdirectory for files too big to commit (git-ignored).
const generatedDir = "generated"

// Committed reports whether a file the generator writes at rel (relative to
// the output directory) belongs in git: everything outside generated/.
func Committed(rel string) bool {
	return rel != generatedDir && !strings.HasPrefix(rel, generatedDir+"/")
}

func checkRel(name string) error {
	if name == "" {
		return errors.New("empty path")
	}
	if path.IsAbs(name) || strings.Contains(name, `\`) || path.Clean(name) != name || name == ".." || strings.HasPrefix(name, "../") {
		return fmt.Errorf("%q: want a clean relative path with forward slashes, inside the directory", name)
	}
	return nil
}

// readTemplateFile reads one template per line, skipping blank lines and
// lines starting with '#', so template files can carry comments.
func readTemplateFile(p string) ([]string, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no template lines", p)
	}
	return out, nil
}

func knownKind(k string) bool {
	switch k {
	case eventgen.KindApp, eventgen.KindCloudTrail, eventgen.KindVPCFlow, eventgen.KindRandom:
		return true
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fnv64 hashes a file name into its seed.
func fnv64(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}
