/// <reference types="vite/client" />
declare module 'sentiment/test/fixtures/*.json' {
  const rows: { text?: string | null; class?: number | null }[]
  export default rows
}
