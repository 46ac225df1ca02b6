/** An error answer of the fake, in Databricks' shape: `{ error_code, message }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) =>
  new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `${what} does not exist.`);

/** jobs/get, runs/*, clusters/get: a missing id is a 400 with "does not exist". */
export const invalidDoesNotExist = (what: string) =>
  new ApiError(400, 'INVALID_PARAMETER_VALUE', `${what} does not exist.`);

export const invalid = (message: string) => new ApiError(400, 'INVALID_PARAMETER_VALUE', message);
