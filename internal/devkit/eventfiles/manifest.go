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

// load checks the manifest in phases, fills in its defaults and reads the
// files it names, gathering every problem so that one error reports them
// all.
func (m *Manifest) load() error {
	var p problems
	m.loadHeader(&p)
	m.lines = map[string][]string{}
	m.loadTemplates(&p)
	m.loadReadme(&p)
	if len(m.Files) == 0 {
		p.add("no files")
	}
	names := map[string]bool{}
	for i := range m.Files {
		m.checkFile(&p, i, names)
	}
	if len(p) > 0 {
		return errors.Join(p...)
	}
	m.fileSeed = map[string]uint64{}
	for _, f := range m.Files {
		m.fileSeed[f.Name] = m.Seed ^ fnv64(f.Name)
	}
	return nil
}

// problems gathers what is wrong with a manifest.
type problems []error

// add records a problem.
func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Errorf(format, args...)) }

// loadHeader parses the start time and the step, and defaults the stream ARN.
func (m *Manifest) loadHeader(p *problems) {
	var err error
	if m.start, err = time.Parse(time.RFC3339, m.Start); err != nil {
		p.add("start %q: want RFC 3339 (e.g. 2026-01-01T00:00:00Z)", m.Start)
	}
	if m.step, err = time.ParseDuration(m.Step); err != nil || m.step <= 0 {
		p.add("step %q: want a positive Go duration (e.g. 250ms)", m.Step)
	}
	if m.StreamARN == "" {
		m.StreamARN = invocation.DefaultStreamARN
	} else if a, err := arn.Parse(m.StreamARN); err != nil || a.Service != "kinesis" || !strings.HasPrefix(a.Resource, "stream/") {
		p.add("streamARN %q: want arn:aws:kinesis:REGION:ACCOUNT:stream/NAME", m.StreamARN)
	}
}

// loadTemplates reads the message templates of each kind.
func (m *Manifest) loadTemplates(p *problems) {
	for _, kind := range sortedKeys(m.Templates) {
		if !knownKind(kind) {
			p.add("templates: unknown kind %q (want app, cloudtrail, vpcflow or random)", kind)
		}
		m.readLines(p, "templates."+kind, m.Templates[kind])
	}
}

// readLines reads template file name (relative to the manifest) into
// m.lines, once; what names the key that refers to it.
func (m *Manifest) readLines(p *problems, what, name string) {
	if _, ok := m.lines[name]; ok {
		return
	}
	if err := checkRel(name); err != nil {
		p.add("%s: %v", what, err)
		return
	}
	l, err := readTemplateFile(filepath.Join(m.dir, filepath.FromSlash(name)))
	if err != nil {
		p.add("%s: %v", what, err)
		return
	}
	m.lines[name] = l
}

// loadReadme reads the readme the manifest names, if any.
func (m *Manifest) loadReadme(p *problems) {
	if m.Readme == "" {
		return
	}
	if err := checkRel(m.Readme); err != nil {
		p.add("readme: %v", err)
	} else if b, err := os.ReadFile(filepath.Join(m.dir, filepath.FromSlash(m.Readme))); err != nil {
		p.add("readme: %v", err)
	} else {
		m.readme = string(b)
	}
}

// checkFile checks file i and its records and fills in their defaults;
// names holds the file names seen so far.
func (m *Manifest) checkFile(p *problems, i int, names map[string]bool) {
	f := &m.Files[i]
	where := fmt.Sprintf("files[%d] (%s)", i, f.Name)
	if err := checkRel(f.Name); err != nil || !strings.HasSuffix(f.Name, ".json") || path.Base(f.Name) == ExpectationsName {
		p.add("%s: name must be a relative path to a .json file other than %s", where, ExpectationsName)
	}
	if names[f.Name] {
		p.add("%s: duplicate name", where)
	}
	names[f.Name] = true
	switch f.Event {
	case "":
		f.Event = EventKinesis
	case EventKinesis, EventAWSLogs:
	default:
		p.add("%s: event %q: want kinesis or awslogs", where, f.Event)
	}
	if f.Event == EventAWSLogs && (len(f.Records) != 1 || f.Records[0].Repeat > 1 || f.FillTo > 0) {
		p.add("%s: an awslogs event carries exactly one payload", where)
	}
	if len(f.Records) == 0 {
		p.add("%s: no records", where)
	}
	if f.FillTo < 0 || f.FillTo > LambdaPayloadLimit {
		p.add("%s: fillTo %d: want 1..%d (Lambda's invocation payload limit)", where, f.FillTo, LambdaPayloadLimit)
	}
	if f.FillTo > 0 && !f.Compact {
		p.add("%s: fillTo needs compact: the limit applies to the compact JSON Lambda sends", where)
	}
	for j := range f.Records {
		m.checkRecord(p, f, fmt.Sprintf("%s records[%d]", where, j), &f.Records[j])
	}
}

// checkRecord checks record r of file f (rwhere names it) and fills in
// its defaults.
func (m *Manifest) checkRecord(p *problems, f *FileSpec, rwhere string, r *RecordSpec) {
	if r.Type == "" {
		r.Type = TypeData
	}
	if r.Kind != "" && !knownKind(r.Kind) {
		p.add("%s: unknown kind %q", rwhere, r.Kind)
	}
	if r.Repeat < 0 || (r.Repeat > 1 && f.FillTo > 0) {
		p.add("%s: repeat %d: want >= 0, and no repeat in a fillTo file (it repeats records itself)", rwhere, r.Repeat)
	}
	if r.Repeat == 0 {
		r.Repeat = 1
	}
	if r.Events < 0 || r.Size < 0 || r.Inflate < 0 {
		p.add("%s: events, size and inflate must not be negative", rwhere)
	}
	switch {
	case r.Type == TypeControl:
	case r.Type == TypeData || poisonKinds[r.Type].build != nil:
		if r.Owner == "" || r.LogGroup == "" || r.LogStream == "" {
			p.add("%s: owner, logGroup and logStream are required", rwhere)
		}
		if len(r.Lines) == 0 && r.Events == 0 && r.Type != PoisonGzipBomb {
			p.add("%s: give events > 0 or lines", rwhere)
		}
	default:
		p.add("%s: type %q: want data, control or a poison kind (%s)", rwhere, r.Type, strings.Join(PoisonKinds(), ", "))
	}
	if r.Inflate != 0 && r.Type != PoisonGzipBomb {
		p.add("%s: inflate applies to %s records only", rwhere, PoisonGzipBomb)
	}
	if r.Type == PoisonGzipBomb && Committed(f.Name) {
		p.add("%s: a %s record inflates past 64 MiB; keep it in a %s/ file, which is not committed", rwhere, PoisonGzipBomb, generatedDir)
	}
	if r.Template != "" {
		m.readLines(p, rwhere+" template", r.Template)
	}
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
