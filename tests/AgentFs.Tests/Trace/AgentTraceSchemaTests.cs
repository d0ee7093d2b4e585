using System.Text.Json.Nodes;
using Xunit.Sdk;

namespace AgentFs.Tests.Trace;

/// <summary>The record checker every trace test goes through can fail: it refuses what the specification refuses.</summary>
public class AgentTraceSchemaTests
{
    private static JsonObject Record() => new()
    {
        ["version"] = "0.1.0",
        ["id"] = "1b4e28ba-2fa1-4d2b-a6c3-1c2b3d4e5f60",
        ["timestamp"] = "2026-01-23T14:30:00.123Z",
        ["files"] = new JsonArray(new JsonObject
        {
            ["path"] = "src/x.c",
            ["conversations"] = new JsonArray(new JsonObject
            {
                ["url"] = "https://chat.example.com/c/1",
                ["contributor"] = new JsonObject { ["type"] = "ai" },
                ["ranges"] = new JsonArray(new JsonObject { ["start_line"] = 3, ["end_line"] = 5 }),
            }),
        }),
    };

    [Fact]
    public void A_record_of_the_specification_passes()
    {
        AgentTraceSchema.Check(Record().ToJsonString());
        Assert.Empty(AgentTraceSchema.AgainstSpecification(System.Text.Json.JsonDocument.Parse(Record().ToJsonString()).RootElement));
    }

    [Theory]
    [InlineData("version", "0.1", "pattern")]          // the MAJOR.MINOR of specification drafts before 0.1.0
    [InlineData("id", "not-a-uuid", "format")]
    [InlineData("timestamp", "yesterday", "format")]
    public void The_specification_schema_refuses_a_bad_field(string field, string value, string keyword)
    {
        var r = Record();
        r[field] = value;
        var errors = AgentTraceSchema.AgainstSpecification(System.Text.Json.JsonDocument.Parse(r.ToJsonString()).RootElement);
        Assert.Contains(errors, e => e.Contains(keyword));
        Assert.Throws<TrueException>(() => AgentTraceSchema.Check(r.ToJsonString()));
    }

    [Fact]
    public void The_specification_schema_refuses_a_missing_field_a_bad_url_and_line_zero()
    {
        var r = Record();
        r.Remove("files");
        Assert.Contains(AgentTraceSchema.AgainstSpecification(System.Text.Json.JsonDocument.Parse(r.ToJsonString()).RootElement), e => e.Contains("required"));
        r = Record();
        r["files"]![0]!["conversations"]![0]!["url"] = "not a uri";
        Assert.Contains(AgentTraceSchema.AgainstSpecification(System.Text.Json.JsonDocument.Parse(r.ToJsonString()).RootElement), e => e.Contains("format"));
        r = Record();
        r["files"]![0]!["conversations"]![0]!["ranges"]![0]!["start_line"] = 0;
        Assert.Contains(AgentTraceSchema.AgainstSpecification(System.Text.Json.JsonDocument.Parse(r.ToJsonString()).RootElement), e => e.Contains("minimum"));
    }

    [Fact]
    public void The_stricter_rules_refuse_a_field_the_schema_does_not_name()
    {
        var r = Record();
        r["files"]![0]!["conversations"]![0]!["extra"] = 1;
        Assert.Throws<TrueException>(() => AgentTraceSchema.Check(r.ToJsonString()));
    }
}
