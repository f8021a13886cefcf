package routes_test

import (
	"fmt"

	"github.com/logfan/logfan/shared/routes"
)

// The first route whose match a record satisfies names its targets; the
// last route, without a match, takes every record the others leave.
func ExampleParse() {
	tbl, err := routes.Parse([]byte(`[
	  {"name": "security", "match": {"logGroups": ["/aws/cloudtrail/**"]},
	   "to": ["s3", {"sink": "firehose", "stream": "siem"}]},
	  {"name": "flows", "match": {"logGroups": ["/vpc/flow-logs/**"]}, "to": []},
	  {"name": "rest", "to": [{"sink": "s3", "prefix": "apps"}]}
	]`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, group := range []string{"/aws/cloudtrail/org", "/vpc/flow-logs/prod", "/aws/lambda/orders"} {
		i := tbl.Match(routes.Record{Owner: "111111111111", LogGroup: group, LogStream: "s"})
		r := tbl.Routes()[i]
		var to []string
		for _, t := range r.To {
			to = append(to, t.Name())
		}
		fmt.Printf("%s -> %s %v\n", group, r.Name, to)
	}
	// Output:
	// /aws/cloudtrail/org -> security [s3 firehose:siem]
	// /vpc/flow-logs/prod -> flows []
	// /aws/lambda/orders -> rest [s3:apps]
}

// Parse reports every problem of a table in one error, naming the route.
func ExampleParse_errors() {
	_, err := routes.Parse([]byte(`[
	  {"name": "apps", "match": {"logGroups": ["/aws/lambda/**"]}, "to": [{"sink": "s4"}]},
	  {"name": "apps", "to": ["s3"]}
	]`))
	fmt.Println(err)
	// Output:
	// routes: route 1 ("apps"): target 1: unknown sink "s4": want s3, firehose or logs
	// route 2 ("apps"): same name as route 1
}

// ParseWith resolves targets with the sinks' defaults before comparing
// them, so two spellings of one destination are refused.
func ExampleParseWith() {
	_, err := routes.ParseWith([]byte(`[
	  {"name": "rest", "to": ["s3", {"sink": "s3", "prefix": "logs"}]}
	]`), routes.Options{Defaults: routes.Defaults{S3Prefix: "logs"}})
	fmt.Println(err)
	// Output:
	// routes: route 1 ("rest"): targets s3 and s3:logs both write under S3 prefix logs/ (s3 takes the default prefix logs): every event of the route would be written twice to the same object keys; keep one of them
}
