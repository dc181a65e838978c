// YAML files imported as text (`with { type: "text" }`): their contents.
declare module "*.yaml" {
  const text: string
  export default text
}
