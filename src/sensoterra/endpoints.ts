/**
 * Endpoints whose name the rest of the code compares errors against (ApiError.endpoint), in a module of their own so
 * that comparing does not load the HTTP client.
 */

/** The login: an error from it is about the account or SENSOTERRA_API_URL, never about what was asked for. */
export const LOGIN_ENDPOINT = 'POST /customer/auth';
