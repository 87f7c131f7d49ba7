// Drives a running `findme serve` with the official OpenWhisk JavaScript client,
// exactly as a developer would against OpenWhisk standalone, and prints what it
// saw as one JSON document for tests/test_openwhisk_client.py to check.
import { readFileSync } from "node:fs";
import openwhisk from "openwhisk";

const { FINDME_API_HOST: apihost, FINDME_AUTH: apiKey, FINDME_REFERENCE: reference } = process.env;
const ow = openwhisk({ apihost, api_key: apiKey, namespace: "_" });
const seen = {};

const started = await ow.actions.invoke({
  name: "findme/register_search",
  blocking: true,
  result: true,
  params: { folder: "event/talk", reference_image: readFileSync(reference).toString("base64") },
});
seen.jobId = started.job_id;

let status;
for (let i = 0; i < 600; i += 1) {
  status = await ow.actions.invoke({
    name: "findme/search_status", blocking: true, result: true, params: { job_id: seen.jobId },
  });
  if (status.state === "done" || status.state === "failed") break;
  await new Promise((r) => setTimeout(r, 200));
}
seen.state = status.state;
seen.matches = status.matches.map((m) => m.photo).sort();

const fired = await ow.triggers.invoke({ name: "search_request", params: { job_id: "0".repeat(32) } });
seen.triggerActivation = fired.activationId;
const record = await ow.activations.get({ name: fired.activationId });
seen.triggerLogs = record.logs;

const invoked = await ow.actions.invoke({ name: "findme/search_status", params: { job_id: seen.jobId } });
for (let i = 0; i < 100; i += 1) {
  try {
    const activation = await ow.activations.get({ name: invoked.activationId });
    seen.activation = { name: activation.name, success: activation.response.success,
      state: activation.response.result.state, duration: activation.duration };
    break;
  } catch (error) {
    await new Promise((r) => setTimeout(r, 100));
  }
}
seen.listed = (await ow.activations.list({ limit: 3 })).length;

try {
  await openwhisk({ apihost, api_key: `${apiKey.split(":")[0]}:wrong`, namespace: "_" })
    .actions.invoke({ name: "findme/search_status", blocking: true, params: { job_id: seen.jobId } });
  seen.wrongKey = "accepted";
} catch (error) {
  seen.wrongKey = error.statusCode;
}
console.log(JSON.stringify(seen));
