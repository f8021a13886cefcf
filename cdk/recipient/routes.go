package recipient

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/cdk/cdkcontext"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/routes"
)

// Context keys of routing (see docs/routes.md, "Routes in the stack").
const (
	// CtxRoutes is the route table: its JSON text, a JSON array in cdk.json,
	// or @path to a file (relative to the CDK app's directory, where cdk.json is).
	CtxRoutes = "routes"
	// CtxFirehoseStreams lists existing Firehose streams of the stack's
	// account and region, by name, that routes may name besides the stack's own.
	CtxFirehoseStreams = "firehoseStreams"
	// CtxLogsRegions lists regions, besides logsRegion, that routes may send to
	// with the logs sink.
	CtxLogsRegions = "logsRegions"
)

// maxEnvBytes is Lambda's limit on a function's environment: the JSON
// object of every variable's name and value, 4 KB in total.
const maxEnvBytes = 4096

// routesLayerFile is where a route table too large for the environment is
// found in the function: Lambda extracts layers under /opt.
const routesLayerFile = "logfan/routes.json"

// RouteSettings configures routing: which targets receive each event.
type RouteSettings struct {
	// Text is the route table as compact JSON, the same for every function;
	// empty means no routes (every event to every sink's default target).
	Text string
	// Table is Text parsed; nil without routes.
	Table *routes.Table
	// FirehoseStreams are further Firehose streams routes may name.
	FirehoseStreams []string
	// LogsRegions are further regions the logs sink's routes may write to.
	LogsRegions []string
}

// parseRouteSettings reads the routing keys and checks the table against
// the rest of the settings: every target's sink enabled, every stream and
// region known (config.ParseRoutes has checked each target on its own:
// regions, prefixes, log-group templates scoped by a literal prefix). It
// runs after the sinks' settings are parsed.
func parseRouteSettings(p *cdkcontext.Parser, s *Settings) {
	r := &s.Routes
	r.FirehoseStreams = p.List(CtxFirehoseStreams)
	for i, name := range r.FirehoseStreams {
		switch {
		case !routes.IsStreamName(name):
			p.Fail(CtxFirehoseStreams, name, "Firehose stream names (1-64 of a-z A-Z 0-9 _ . -), comma-separated")
		case slices.Contains(r.FirehoseStreams[:i], name):
			p.Fail(CtxFirehoseStreams, name, "each stream once")
		}
	}
	r.LogsRegions = p.List(CtxLogsRegions)
	for i, region := range r.LogsRegions {
		switch {
		case config.CheckRegion(region) != nil:
			p.Check(CtxLogsRegions, region, config.CheckRegion)
		case slices.Contains(r.LogsRegions[:i], region):
			p.Fail(CtxLogsRegions, region, "each region once")
		case partition(region) != partition(s.Region):
			// The grant's ARNs are in the stack's partition.
			p.Fail(CtxLogsRegions, region, "regions of the stack's partition ("+partition(s.Region)+")")
		}
	}

	text, ok := routesText(p)
	if !ok || text == "" {
		return
	}
	table, err := config.ParseRoutes([]byte(text), s.routeDefaults())
	if err != nil {
		p.Report(err) // it starts "routes: ", the key's name
		return
	}
	r.Text, r.Table = text, table
	for _, problem := range s.routeProblems() {
		p.Report(fmt.Errorf("%s: %s", CtxRoutes, problem))
	}
}

// routeDefaults are what the stack's functions resolve a route target's
// left-out settings to: every sink's default target, the stack's own
// Firehose stream by name when it is imported (a created stream's name is
// not known at synth, and no route can name it).
func (s Settings) routeDefaults() routes.Defaults {
	return routes.Defaults{
		S3Prefix:           s.S3.Prefix,
		FirehoseStream:     s.Firehose.StreamName(),
		LogsRegion:         s.Logs.Region,
		LogsGroupTemplate:  s.Logs.GroupTemplate,
		LogsStreamTemplate: s.Logs.StreamTemplate,
	}
}

// routesText returns the route table's text from context, compacted, or
// false after recording why it could not be read.
func routesText(p *cdkcontext.Parser) (string, bool) {
	var raw []byte
	switch v := p.Value(CtxRoutes).(type) {
	case nil:
		return "", true
	case string:
		v = strings.TrimSpace(v)
		if path, isFile := strings.CutPrefix(v, "@"); isFile {
			data, err := os.ReadFile(filepath.Clean(path))
			if err != nil {
				p.Fail(CtxRoutes, v, "a readable route table file ("+err.Error()+")")
				return "", false
			}
			raw = data
		} else {
			raw = []byte(v)
		}
	default:
		// A JSON array written straight into cdk.json.
		data, err := json.Marshal(v)
		if err != nil {
			p.Fail(CtxRoutes, fmt.Sprint(v), "a JSON route table")
			return "", false
		}
		raw = data
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return "", true
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		// routes.Parse reports the syntax error with its position.
		return string(raw), true
	}
	return compact.String(), true
}

// routeProblems lists what in the route table the stack cannot serve, one
// line per target (each target once, with the first route naming it).
func (s Settings) routeProblems() []string {
	var problems []string
	enabled := s.EnabledSinks()
	seen := map[string]bool{}
	for i, route := range s.Routes.Table.Routes() {
		for _, t := range route.To {
			if seen[t.Name()] {
				continue
			}
			seen[t.Name()] = true
			bad := func(format string, a ...any) {
				problems = append(problems, fmt.Sprintf("route %d (%q): target %s: %s", i+1, route.Name, t.Name(), fmt.Sprintf(format, a...)))
			}
			if !slices.Contains(enabled, t.Sink) {
				bad("the %s sink is not enabled (%sEnabled=false)", t.Sink, t.Sink)
				continue
			}
			switch t.Sink {
			case config.SinkS3:
				if s.stackFirehoseWritesData() && t.Prefix != "" {
					for _, fp := range []string{s.Firehose.Prefix, s.Firehose.Prefix + "-errors"} {
						if overlaps(t.Prefix, fp) {
							bad("prefix %s overlaps the prefix %s/ the stack's Firehose stream writes to in the same bucket", t.Prefix, fp)
						}
					}
				}
			case config.SinkFirehose:
				if t.Stream != "" && t.Stream != s.Firehose.StreamName() && !slices.Contains(s.Routes.FirehoseStreams, t.Stream) {
					bad("stream %s is not known to the stack: list it in %s (plain \"firehose\" is the stack's own stream)", t.Stream, CtxFirehoseStreams)
				}
			case config.SinkLogs:
				if t.Region != "" && t.Region != s.Logs.Region && !slices.Contains(s.Routes.LogsRegions, t.Region) {
					bad("region %s is neither %s (%s) nor listed in %s", t.Region, CtxLogsRegion, s.Logs.Region, CtxLogsRegions)
				}
			}
		}
	}
	return problems
}

// overlaps reports whether one S3 prefix lies within the other.
func overlaps(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

// stackFirehoseWritesData reports whether the stack creates a Firehose
// stream delivering into the data bucket.
func (s Settings) stackFirehoseWritesData() bool {
	return s.Firehose.Enabled && s.Firehose.StreamARN == ""
}

// groupPrefix is the literal start of a log-group template, which scopes the IAM grant.
func groupPrefix(template string) string {
	prefix, _, _ := strings.Cut(template, "{")
	return prefix
}

// sinkTargets returns the targets sink's function delivers to, with the
// sink's defaults filled in: the routes' targets of that sink, or the
// default target alone without routes. IAM follows exactly this list.
func (s Settings) sinkTargets(sink string) []routes.Target {
	if s.Routes.Table == nil {
		return []routes.Target{s.fill(routes.Target{Sink: sink})}
	}
	var out []routes.Target
	for _, t := range s.Routes.Table.Targets(sink) {
		out = append(out, s.fill(t))
	}
	return out
}

// fill replaces a target's empty settings with the sink's defaults.
func (s Settings) fill(t routes.Target) routes.Target {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	switch t.Sink {
	case config.SinkS3:
		def(&t.Prefix, s.S3.Prefix)
	case config.SinkLogs:
		def(&t.Region, s.Logs.Region)
		def(&t.GroupTemplate, s.Logs.GroupTemplate)
		def(&t.StreamTemplate, s.Logs.StreamTemplate)
	}
	return t
}

// envMaxRefs stand in for the deploy-time names of the function's
// environment at their longest, so the size check holds for any deployment:
// S3 bucket names have at most 63 characters, Firehose stream names 64.
var envMaxRefs = envRefs{DataBucket: strings.Repeat("b", 63), QuarantineBucket: strings.Repeat("q", 63), FirehoseStream: strings.Repeat("f", 64)}

// envBytes is the size Lambda measures an environment by: the JSON object
// of its names and values.
func envBytes(env map[string]string) int {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		panic(err) // a map of strings always encodes
	}
	return len(bytes.TrimSpace(b.Bytes()))
}

// routesInEnv reports whether sink's function can carry the route table in
// its environment (EnvRoutes) within Lambda's 4 KB; otherwise it reads the
// table from a file in a layer (EnvRoutesFile).
func (s Settings) routesInEnv(sink string) bool {
	return envBytes(s.functionEnv(sink, envMaxRefs)) <= maxEnvBytes
}

// unroutedSinks lists the enabled sinks no route sends anything to.
func (s Settings) unroutedSinks() []string {
	var out []string
	if s.Routes.Table == nil {
		return nil
	}
	for _, sink := range s.EnabledSinks() {
		if len(s.Routes.Table.Targets(sink)) == 0 {
			out = append(out, sink)
		}
	}
	return out
}

// routesDelivery moves the route table of sink's function from its
// environment into the routes layer when the environment would exceed
// Lambda's limit, and returns the layers the function needs. It warns at
// synth when no route sends the sink anything: the function would read the
// whole stream to deliver nothing.
func (r *recipientStack) routesDelivery(sink string, env map[string]*string) []awslambda.ILayerVersion {
	if slices.Contains(r.s.unroutedSinks(), sink) {
		awscdk.Annotations_Of(r.stack).AddWarningV2(jsii.String("logfan:unroutedSink:"+sink), jsii.String(fmt.Sprintf(
			"no route sends anything to the %s sink: its function reads the stream and delivers nothing (-c %sEnabled=false turns it off)", sink, sink)))
	}
	if r.s.Routes.Table == nil || r.s.routesInEnv(sink) {
		return nil
	}
	delete(env, config.EnvRoutes)
	env[config.EnvRoutesFile] = jsii.String("/opt/" + routesLayerFile)
	return []awslambda.ILayerVersion{r.routesLayer()}
}

// routesLayer is the layer holding the route table as a file, created once
// for every function that needs it. Its content, and so its asset hash,
// depends only on the table: changing routes publishes a new layer version
// and updates the functions' configuration, nothing else.
func (r *recipientStack) routesLayer() awslambda.ILayerVersion {
	const id = "RoutesLayer"
	if l := r.stack.Node().TryFindChild(jsii.String(id)); l != nil {
		return l.(awslambda.ILayerVersion)
	}
	return fileLayer(r.stack, id, "logfan-routes-", routesLayerFile, r.s.Routes.Text,
		"logfan route table ("+config.EnvRoutesFile+"=/opt/"+routesLayerFile+"), too large for the functions' 4 KB environment")
}

// fileLayer is a Lambda layer (arm64, provided.al2023) holding one file,
// path under /opt, with content. Its content, and so its asset hash,
// depends only on content: a change publishes a new layer version and
// updates the functions using it, nothing else.
func fileLayer(stack awscdk.Stack, id, stagePrefix, path, content, description string) awslambda.ILayerVersion {
	// Staged in the cloud assembly's directory (cdk.out), which CDK then
	// copies into the layer's asset: nothing is left elsewhere.
	sum := sha256.Sum256([]byte(content))
	dir := filepath.Join(*awscdk.Stage_Of(stack).Outdir(), stagePrefix+hex.EncodeToString(sum[:8]))
	err := os.MkdirAll(filepath.Join(dir, filepath.Dir(path)), 0o755)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, path), []byte(content), 0o644)
	}
	if err != nil {
		panic(fmt.Sprintf("stage %s for its layer: %v", path, err))
	}
	return awslambda.NewLayerVersion(stack, jsii.String(id), &awslambda.LayerVersionProps{
		Code:                    awslambda.Code_FromAsset(jsii.String(dir), nil),
		CompatibleArchitectures: &[]awslambda.Architecture{awslambda.Architecture_ARM_64()},
		CompatibleRuntimes:      &[]awslambda.Runtime{awslambda.Runtime_PROVIDED_AL2023()},
		Description:             jsii.String(description),
	})
}
