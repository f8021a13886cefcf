package faults

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/logging"
)

// TestTransportCountsAbsorbedFaults: a fault is absorbed when the same
// request is later answered with success; one never repeated is not.
func TestTransportCountsAbsorbedFaults(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fails" {
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	seen := map[string]int{}
	tr := &Transport{Inject: func(req *http.Request, body []byte, _ int) (*http.Response, error) {
		// Fail each distinct body twice, then let it through.
		if seen[string(body)]++; seen[string(body)] <= 2 {
			return JSONError(400, "ThrottlingException", "Rate exceeded"), nil
		}
		return nil, nil
	}}
	c := &http.Client{Transport: tr}
	post := func(path, body string) int {
		resp, err := c.Post(srv.URL+path, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 3 {
		post("/ok", "a") // fails twice, then lands: 2 absorbed
	}
	post("/ok", "b") // fails once, never repeated: not absorbed
	for range 3 {
		post("/fails", "c") // fails twice, then the service itself fails it: not absorbed
	}
	if injected, absorbed := tr.Faults(); injected != 5 || absorbed != 2 {
		t.Errorf("injected %d, absorbed %d; want 5 and 2", injected, absorbed)
	}
}

// TestJSONErrorPassesDynamoDBChecksum: DynamoDB's client checks a
// response's X-Amz-Crc32; an injected error carries the right one, so the
// client logs no "response did not match expected checksum" warning.
func TestJSONErrorPassesDynamoDBChecksum(t *testing.T) {
	var mu sync.Mutex
	var logged strings.Builder
	client := dynamodb.New(dynamodb.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
		HTTPClient: &http.Client{Transport: &Transport{Inject: func(*http.Request, []byte, int) (*http.Response, error) {
			return JSONError(400, "ThrottlingException", "Rate exceeded"), nil
		}}},
		RetryMaxAttempts: 1,
		Logger: logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(&logged, format+"\n", v...)
		}),
	})
	_, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "x"}}})
	if err == nil || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Fatalf("err = %v, want the injected throttle", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logged.String(), "checksum") {
		t.Errorf("the client logged a checksum warning:\n%s", logged.String())
	}
}
