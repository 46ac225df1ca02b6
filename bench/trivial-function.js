// The cold-start baseline: a CloudEvent function that only acknowledges, run by the same
// functions-framework as rotateSecret.
const functions = require('@google-cloud/functions-framework');

functions.cloudEvent('trivial', async () => {});
