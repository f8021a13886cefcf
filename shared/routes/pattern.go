package routes

import "fmt"

// Pattern is a compiled log-group pattern with the syntax and checks of a
// route's match.logGroups: '*' within a '/'-separated segment, '**' across
// segments. Operator commands that select log groups (resend) use it, so a
// pattern means the same there as in a route table.
type Pattern struct{ g *glob }

// CompileLogGroupPattern checks p as a route table's logGroups pattern and compiles it.
func CompileLogGroupPattern(p string) (*Pattern, error) {
	if err := checkGroupPattern(p); err != nil {
		return nil, fmt.Errorf("log group pattern %q: %w", p, err)
	}
	g, err := compileGlob(p)
	if err != nil {
		return nil, fmt.Errorf("log group pattern %q: %w", p, err)
	}
	return &Pattern{g}, nil
}

// Match reports whether name matches the pattern.
func (p *Pattern) Match(name string) bool { return p.g.match(name) }

// Literal returns the one name the pattern matches when it has no wildcard.
func (p *Pattern) Literal() (string, bool) { return p.g.src, p.g.literal }

// String returns the pattern as written.
func (p *Pattern) String() string { return p.g.src }
