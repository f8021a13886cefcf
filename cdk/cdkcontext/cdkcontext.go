// Package cdkcontext reads CDK context values, which arrive as JSON types
// from cdk.json or as strings from `cdk -c key=value`, and collects every
// malformed value so that one synth reports all of them at once.
package cdkcontext

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/logfan/logfan/shared/suggest"
)

// Parser reads typed values from CDK context and records each problem it finds.
//
// Every reader returns a usable value (the default when the given one is
// missing or malformed) so that parsing can go on and report the rest.
type Parser struct {
	lookup   func(string) any
	errs     []error
	warnings []Warning
	// read records every key looked up (Keys).
	read map[string]bool
}

// NewParser returns a Parser over lookup (app.Node().TryGetContext in production).
func NewParser(lookup func(key string) any) *Parser {
	p := &Parser{read: map[string]bool{}}
	p.lookup = func(key string) any {
		p.read[key] = true
		return lookup(key)
	}
	return p
}

// Keys returns every key the parser looked up, sorted: with the defaults,
// the keys a settings package reads (its part of the known keys).
func (p *Parser) Keys() []string {
	keys := make([]string, 0, len(p.read))
	for k := range p.read {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Warning is a context value the stack accepts but does not use.
type Warning struct {
	// Key is the context key.
	Key string
	// Message says which value is ignored, why, and what to do.
	Message string
}

// Ignored records a warning when key is set to something other than def
// although the settings chosen make the stack ignore it; why says which
// setting does and how to use the key. Unset, blank and default values
// (cdk.json's) pass silently.
func (p *Parser) Ignored(key, def, why string) {
	if v, ok := p.raw(key); ok && v != "" && v != def {
		p.warnings = append(p.warnings, Warning{Key: key, Message: fmt.Sprintf("%s=%s is ignored: %s", key, v, why)})
	}
}

// Warnings returns the warnings recorded, in the order found.
func (p *Parser) Warnings() []Warning { return p.warnings }

// Fail records that key holds value where want was expected.
func (p *Parser) Fail(key, value, want string) {
	p.errs = append(p.errs, fmt.Errorf("%s=%q: want %s", key, value, want))
}

// Check records check's error about key's value, if any: the way to apply
// a rule shared with the functions and the CLI (shared/config's Check*).
func (p *Parser) Check(key, value string, check func(string) error) {
	if err := check(value); err != nil {
		p.errs = append(p.errs, fmt.Errorf("%s=%q: %w", key, value, err))
	}
}

// Report records a problem that is not about a single key's value, such as a
// rule spanning several keys.
func (p *Parser) Report(err error) {
	if err != nil {
		p.errs = append(p.errs, err)
	}
}

// Err joins every recorded problem, in the order found, or returns nil.
func (p *Parser) Err() error {
	return errors.Join(p.errs...)
}

// Value returns key's value exactly as the context holds it (nil when
// unset), for values that are documents rather than scalars, such as a JSON
// array given in cdk.json.
func (p *Parser) Value(key string) any {
	return p.lookup(key)
}

// raw returns key's value as trimmed text, and whether it was set at all.
func (p *Parser) raw(key string) (string, bool) {
	v := p.lookup(key)
	if v == nil {
		return "", false
	}
	return text(v), true
}

// text renders one context value. JSON numbers decode as float64, which
// fmt.Sprint prints in exponent form from 1e6 up (an account ID 123456789012
// would become 1.23456789012e+11), so they print in plain decimal instead.
func text(v any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	default:
		return fmt.Sprint(t)
	}
}

// String returns key's trimmed value, or def when it is unset or blank.
func (p *Parser) String(key, def string) string {
	if v, ok := p.raw(key); ok && v != "" {
		return v
	}
	return def
}

// Match returns key's value (or def) and records a problem unless it matches re;
// want describes an acceptable value for the message.
func (p *Parser) Match(key, def string, re *regexp.Regexp, want string) string {
	v := p.String(key, def)
	if !re.MatchString(v) {
		p.Fail(key, v, want)
	}
	return v
}

// OptionalMatch returns key's value, or "" when unset, and records a problem
// when a value is set that does not match re.
func (p *Parser) OptionalMatch(key string, re *regexp.Regexp, want string) string {
	v := p.String(key, "")
	if v != "" && !re.MatchString(v) {
		p.Fail(key, v, want)
	}
	return v
}

// OneOf returns the allowed value that key's value equals ignoring case, so
// the result is always spelled as in allowed; otherwise it records a problem
// and returns def.
func (p *Parser) OneOf(key, def string, allowed ...string) string {
	v := p.String(key, def)
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	p.Fail(key, v, "one of "+strings.Join(allowed, ", "))
	return def
}

// Bool returns key's value as a boolean (JSON true/false or any form
// strconv.ParseBool accepts), or def when unset, blank or malformed.
func (p *Parser) Bool(key string, def bool) bool {
	v, ok := p.raw(key)
	if !ok || v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.Fail(key, v, "true or false")
		return def
	}
	return b
}

// Int returns key's value as an integer from lo to hi inclusive, or def when
// unset, blank, fractional or out of range.
func (p *Parser) Int(key string, def, lo, hi int) int {
	v, ok := p.raw(key)
	if !ok || v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.Fail(key, v, fmt.Sprintf("an integer from %d to %d", lo, hi))
		return def
	}
	return n
}

// List returns the non-blank, trimmed items of key's value: a JSON array or a
// comma-separated string. It returns nil when key is unset.
func (p *Parser) List(key string) []string {
	var items []string
	switch t := p.lookup(key).(type) {
	case nil:
	case []any:
		// Elements render like single values, so an account ID written as
		// a JSON number stays in decimal.
		for _, x := range t {
			items = append(items, text(x))
		}
	case []string:
		items = t
	default:
		items = strings.Split(text(t), ",")
	}
	var out []string
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// cdkKeys are context keys the CDK CLI and toolkit set themselves.
var cdkKeys = []string{"cli-telemetry", "acknowledged-issue-numbers"}

// IsCDKKey reports whether key belongs to CDK rather than to logfan: feature
// flags ("@aws-cdk/..."), the CLI's own settings ("aws:cdk:...",
// cli-telemetry) and cached lookups ("availability-zones:account=...").
func IsCDKKey(key string) bool {
	return strings.HasPrefix(key, "@") || strings.Contains(key, ":") || slices.Contains(cdkKeys, key)
}

// CheckKeys refuses context keys that are neither known nor CDK's own
// (IsCDKKey), each with the closest known key: a mistyped -c sharCount=2
// would otherwise be ignored and the stack synthesized with the default.
func CheckKeys(all map[string]any, known []string) error {
	var unknown []string
	for k := range all {
		if !IsCDKKey(k) && !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	var errs []error
	for _, k := range unknown {
		hint := ""
		if c := suggest.Closest(k, known); c != "" {
			hint = fmt.Sprintf(": did you mean %s?", c)
		} else if c := suggest.Closest(strings.ToLower(k), lower(known)); c != "" {
			hint = fmt.Sprintf(": did you mean %s?", known[slices.Index(lower(known), c)])
		}
		errs = append(errs, fmt.Errorf("unknown context key %q%s (the keys are listed in cdk.json and docs/deploy.md, Configuration)", k, hint))
	}
	return errors.Join(errs...)
}

func lower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}
