import { useQuery } from '@tanstack/react-query';
import { modelsQuery } from '../api';

export function useModels() {
  return useQuery(modelsQuery);
}
