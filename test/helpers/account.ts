/**
 * A small reseller account, written out by hand, that the pull tests serve from the simulator and then expect,
 * field by field, in the warehouse.
 */
import type { AccountFixture } from '../../src/simulator/index.js';

export const NOW = new Date('2024-07-08T10:30:00Z');

export function smallAccount(): AccountFixture {
  return {
    account: { id: 7, email: 'reseller@example.com', password: 'correct horse' },
    customers: [
      { id: 39, name: 'Green Acres', email: 'office@greenacres.example' },
      { id: 40, name: 'Hill Farm', email: 'hill@hillfarm.example' },
    ],
    locations: [
      { id: 12, name: 'North field', customer_id: 39, code: 'N' },
      { id: 13, name: 'South field', customer_id: 40 },
    ],
    parameters: [
      { key: 'CLAY', type: 'SOIL', name: 'Clay', names: { nl: 'Klei' } },
      { key: 'SAND', type: 'SOIL', name: 'Sand', names: { nl: 'Zand' } },
      { key: 'LOAM', type: 'SOIL', name: 'Loam', names: { nl: 'Leem' } },
      { key: 'CORN', type: 'CROP', name: 'Corn', names: { nl: 'Maïs' } },
    ],
    probes: [
      {
        id: 49205,
        serial: '24000092104',
        name: 'North 1',
        customer_id: 39,
        location_id: 12,
        latitude: 52.356,
        longitude: 4.955,
        soil_profile: [
          { depth: 30, soil: 'SAND' },
          { depth: 0, soil: 'CLAY' },
        ],
        kind: 'MOISTURE',
        depths: [15, 30, 45, 60],
        battery: 'NORMAL',
        rssi: -97,
        connectivity: 'GOOD',
      },
      {
        id: 49206,
        serial: '24000092105',
        name: 'North 2',
        customer_id: 39,
        location_id: 12,
        latitude: 52.357,
        longitude: 4.956,
        soil_profile: [{ depth: 0, soil: 'LOAM' }],
        kind: 'SI',
        depths: [15],
        battery: 'NORMAL',
        rssi: -101,
        connectivity: 'GOOD',
      },
      {
        id: 49207,
        serial: '24000092106',
        customer_id: 40,
        location_id: 13,
        soil_profile: [{ depth: 0, soil: 'SAND' }],
        kind: 'MOISTURE',
        depths: [20],
        battery: 'FAIR',
        rssi: -110,
        connectivity: 'POOR',
      },
    ],
  };
}
